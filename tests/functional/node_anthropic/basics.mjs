// Scenario 1: create an agent, an environment and two sessions (agent as a string, and as
// {type:"agent", id, version}), then retrieve each.
// argv[2]: {"tag": mock tag}
// Prints {agent, environment, session_by_id, session_pinned, retrieved:{agent, environment,
//         session_by_id, session_pinned}}.

import { client, main, spec, unique } from './common.mjs';

await main(async (partial) => {
  const s = spec();
  const c = client();
  const agent = await c.beta.agents.create({
    name: unique('agent'),
    model: 'claude-sonnet-4-6',
    system: `You are a test agent. [mock:${s.tag}]`,
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  partial.agent = agent;
  const environment = await c.beta.environments.create({ name: unique('env') });
  partial.environment = environment;
  const sessionById = await c.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  const sessionPinned = await c.beta.sessions.create({
    agent: { type: 'agent', id: agent.id, version: agent.version },
    environment_id: environment.id,
    title: 'pinned',
  });
  return {
    agent,
    environment,
    session_by_id: sessionById,
    session_pinned: sessionPinned,
    retrieved: {
      agent: await c.beta.agents.retrieve(agent.id),
      environment: await c.beta.environments.retrieve(environment.id),
      session_by_id: await c.beta.sessions.retrieve(sessionById.id),
      session_pinned: await c.beta.sessions.retrieve(sessionPinned.id),
    },
  };
});
