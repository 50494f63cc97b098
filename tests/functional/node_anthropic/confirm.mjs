// Scenario 3: bash under always_ask. The turn parks (agent.tool_use with evaluated_permission
// "ask", then session.status_idle requires_action); the answer is a user.tool_confirmation.
// argv[2]: {"tag": mock tag, "result": "allow"|"deny", "deny_message"?: str}
// Prints {agent, session, first:[events up to requires_action], parked:<session retrieve>,
//         confirmation:<send reply>, second:[events up to the next idle], after}.

import { EventReader, client, main, setup, spec, userMessage } from './common.mjs';

await main(async (partial) => {
  const s = spec();
  const c = client();
  const { agent, session } = await setup(c, s.tag, {
    tools: [{ type: 'agent_toolset_20260401', configs: [{ name: 'bash', permission_policy: { type: 'always_ask' } }] }],
  });
  Object.assign(partial, { agent, session });
  const reader = await EventReader.open(c, session.id);
  partial.streamed = reader.events;
  await c.beta.sessions.events.send(session.id, { events: [userMessage('run it')] });
  const first = await reader.untilIdle('session.status_idle (requires_action)');
  partial.first = first;
  const parked = await c.beta.sessions.retrieve(session.id);
  partial.parked = parked;
  const toolUse = first.find((e) => e.type === 'agent.tool_use');
  if (!toolUse) throw new Error('no agent.tool_use before the idle event');
  const answer = { type: 'user.tool_confirmation', tool_use_id: toolUse.id, result: s.result };
  if (s.deny_message !== undefined) answer.deny_message = s.deny_message;
  const confirmation = await c.beta.sessions.events.send(session.id, { events: [answer] });
  partial.confirmation = confirmation;
  const second = await reader.untilIdle('session.status_idle after the confirmation');
  reader.close();
  return { agent, session, first, parked, confirmation, second, after: await c.beta.sessions.retrieve(session.id) };
});
