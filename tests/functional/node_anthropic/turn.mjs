// Scenario 2: a turn with a bash tool call run in the sandbox, watched on a stream opened
// before the message is sent; then the events list, as one page and auto-paginated.
// argv[2]: {"tag": mock tag, "text": the user message}
// Prints {session, sent, streamed:[events], listed:[first page], paged_ids:[…], pages}.

import { EventReader, client, collect, main, pageCount, setup, spec, userMessage } from './common.mjs';

await main(async (partial) => {
  const s = spec();
  const c = client();
  const { session } = await setup(c, s.tag);
  partial.session = session;
  const reader = await EventReader.open(c, session.id);
  partial.streamed = reader.events;
  const sent = await c.beta.sessions.events.send(session.id, { events: [userMessage(s.text)] });
  partial.sent = sent;
  await reader.untilIdle();
  reader.close();
  const listed = await c.beta.sessions.events.list(session.id);
  const paged = await collect(c.beta.sessions.events.list(session.id, { limit: 2 }));
  const pages = await pageCount(c.beta.sessions.events.list(session.id, { limit: 2 }));
  return {
    session,
    sent,
    streamed: reader.events,
    listed: listed.data,
    listed_next_page: listed.next_page ?? null,
    paged_ids: paged.map((e) => e.id),
    pages,
    after: await c.beta.sessions.retrieve(session.id),
  };
});
