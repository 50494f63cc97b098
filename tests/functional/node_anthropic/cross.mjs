// Scenario 8: one session, two dialects. A session created here runs a turn (the test then
// reads it through the native API); a session created natively is retrieved and driven here.
// argv[2]: {"tag": mock tag of the SDK agent, "native_session_id": id of a natively created session}
// Prints {sdk:{agent, environment, session, streamed, listed}, native:{retrieved, streamed, listed, after}}.

import { EventReader, client, main, setup, spec, userMessage } from './common.mjs';

async function turn(c, sessionId, text) {
  const reader = await EventReader.open(c, sessionId);
  await c.beta.sessions.events.send(sessionId, { events: [userMessage(text)] });
  await reader.untilIdle();
  reader.close();
  return reader.events;
}

await main(async (partial) => {
  const s = spec();
  const c = client();
  const { agent, environment, session } = await setup(c, s.tag, { tools: [] });
  partial.sdk = { agent, environment, session };
  partial.sdk.streamed = await turn(c, session.id, 'hello from the SDK');
  partial.sdk.listed = (await c.beta.sessions.events.list(session.id)).data;
  const retrieved = await c.beta.sessions.retrieve(s.native_session_id);
  partial.native = { retrieved };
  partial.native.streamed = await turn(c, s.native_session_id, 'hello to a native session');
  partial.native.listed = (await c.beta.sessions.events.list(s.native_session_id)).data;
  partial.native.after = await c.beta.sessions.retrieve(s.native_session_id);
  return { sdk: partial.sdk, native: partial.native };
});
