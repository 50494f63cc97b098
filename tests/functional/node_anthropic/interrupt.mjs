// Scenario 5: user.interrupt while a long bash command runs; then a new message in the same
// session. The test steps the script: after agent.tool_use it prints {"phase":"tool_use",
// "session_id"} and waits for a line on stdin (sent once the command is seen running in the
// sandbox) before interrupting.
// argv[2]: {"tag": mock tag}
// Prints {session, first:[events up to agent.tool_use], interrupt:<send reply>,
//         interrupted:[events up to idle], interrupt_to_idle_ms, after_interrupt:<retrieve>,
//         second:[events of the next turn], after}.

import { EventReader, checkpoint, client, main, setup, spec, userMessage } from './common.mjs';

await main(async (partial) => {
  const s = spec();
  const c = client();
  const { session } = await setup(c, s.tag);
  partial.session = session;
  const reader = await EventReader.open(c, session.id);
  partial.streamed = reader.events;
  await c.beta.sessions.events.send(session.id, { events: [userMessage('take your time')] });
  const first = await reader.until((e) => e.type === 'agent.tool_use', 'agent.tool_use');
  await checkpoint('tool_use', { session_id: session.id });
  const t0 = Date.now();
  const interrupt = await c.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
  partial.interrupt = interrupt;
  const interrupted = await reader.untilIdle('session.status_idle after the interrupt', 25_000);
  const interruptToIdleMs = Date.now() - t0;
  const afterInterrupt = await c.beta.sessions.retrieve(session.id);
  partial.after_interrupt = afterInterrupt;
  await c.beta.sessions.events.send(session.id, { events: [userMessage('and now?')] });
  const second = await reader.untilIdle('session.status_idle of the next turn');
  reader.close();
  return {
    session, first, interrupt, interrupted, interrupt_to_idle_ms: interruptToIdleMs,
    after_interrupt: afterInterrupt, second, after: await c.beta.sessions.retrieve(session.id),
  };
});
