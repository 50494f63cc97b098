// Scenario 6: auto-pagination over more than two pages (run against a server of its own, so
// the lists hold exactly what this script created).
// argv[2]: {"tag": mock tag, "count": N}
// Prints {created:{agents, environments, sessions}, listed:{…ids in SDK order}, pages:{…},
//         single:{…ids of one list call with a large limit}}.

import { client, collect, main, pageCount, spec, unique } from './common.mjs';

await main(async (partial) => {
  const s = spec();
  const c = client();
  const created = { agents: [], environments: [], sessions: [] };
  partial.created = created;
  for (let i = 0; i < s.count; i++) {
    const agent = await c.beta.agents.create({
      name: unique(`page-agent-${i}`),
      model: 'claude-sonnet-4-6',
      system: `[mock:${s.tag}]`,
    });
    created.agents.push(agent.id);
    const env = await c.beta.environments.create({ name: unique(`page-env-${i}`) });
    created.environments.push(env.id);
    const session = await c.beta.sessions.create({ agent: agent.id, environment_id: env.id });
    created.sessions.push(session.id);
  }
  const ids = (items) => items.map((x) => x.id);
  const listed = {
    agents: ids(await collect(c.beta.agents.list({ limit: 2 }))),
    environments: ids(await collect(c.beta.environments.list({ limit: 2 }))),
    sessions: ids(await collect(c.beta.sessions.list({ limit: 2 }))),
  };
  partial.listed = listed;
  const pages = {
    agents: await pageCount(c.beta.agents.list({ limit: 2 })),
    environments: await pageCount(c.beta.environments.list({ limit: 2 })),
    sessions: await pageCount(c.beta.sessions.list({ limit: 2 })),
  };
  const single = {
    agents: ids((await c.beta.agents.list({ limit: 100 })).data),
    environments: ids((await c.beta.environments.list({ limit: 100 })).data),
    sessions: ids((await c.beta.sessions.list({ limit: 100 })).data),
  };
  return { created, listed, pages, single };
});
