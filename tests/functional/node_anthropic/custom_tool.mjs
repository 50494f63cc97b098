// Scenario 4: a custom (client-executed) tool. The model calls get_weather; the session emits
// agent.custom_tool_use and idles with requires_action; the client answers with
// user.custom_tool_result and the turn ends.
// argv[2]: {"tag": mock tag, "answer": the tool result text}
// Prints {agent, session, first:[…], parked, reply:<send reply>, second:[…], after}.

import { EventReader, client, main, setup, spec, userMessage } from './common.mjs';

await main(async (partial) => {
  const s = spec();
  const c = client();
  const { agent, session } = await setup(c, s.tag, {
    tools: [{
      type: 'custom',
      name: 'get_weather',
      description: 'The current weather in a city.',
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    }],
  });
  Object.assign(partial, { agent, session });
  const reader = await EventReader.open(c, session.id);
  partial.streamed = reader.events;
  await c.beta.sessions.events.send(session.id, { events: [userMessage('weather in Paris?')] });
  const first = await reader.untilIdle('session.status_idle (requires_action)');
  const parked = await c.beta.sessions.retrieve(session.id);
  partial.parked = parked;
  const use = first.find((e) => e.type === 'agent.custom_tool_use');
  if (!use) throw new Error('no agent.custom_tool_use before the idle event');
  const reply = await c.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.custom_tool_result', custom_tool_use_id: use.id, content: [{ type: 'text', text: s.answer }] }],
  });
  partial.reply = reply;
  const second = await reader.untilIdle('session.status_idle after the custom tool result');
  reader.close();
  return { agent, session, first, parked, reply, second, after: await c.beta.sessions.retrieve(session.id) };
});
