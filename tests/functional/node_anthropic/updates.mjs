// Scenario 9: updates and lifecycle: agent versions and metadata patches, session title and
// metadata, archive (then sending fails), duplicate environment names, environment delete.
// argv[2]: {"tag": mock tag}

import { attempt, client, collect, main, spec, unique, userMessage } from './common.mjs';

await main(async (partial) => {
  const s = spec();
  const c = client();
  const agent = await c.beta.agents.create({
    name: unique('agent'),
    model: 'claude-sonnet-4-6',
    system: `[mock:${s.tag}]`,
    metadata: { keep: 'k', drop: 'd' },
  });
  partial.agent = agent;
  const v2 = await c.beta.agents.update(agent.id, {
    version: agent.version,
    description: 'second version',
    metadata: { drop: null, added: 'a' },
  });
  partial.v2 = v2;
  const versions = await collect(c.beta.agents.versions.list(agent.id));
  const v1 = await c.beta.agents.retrieve(agent.id, { version: 1 });

  const envName = unique('env');
  const environment = await c.beta.environments.create({ name: envName });
  const duplicate = await attempt(c.beta.environments.create({ name: envName }));
  const session = await c.beta.sessions.create({ agent: agent.id, environment_id: environment.id, title: 'first title' });
  const titled = await c.beta.sessions.update(session.id, { title: 'second title', metadata: { k1: 'v1', k2: 'v2' } });
  const patched = await c.beta.sessions.update(session.id, { metadata: { k1: null } });
  const archived = await c.beta.sessions.archive(session.id);
  const sendArchived = await attempt(c.beta.sessions.events.send(session.id, { events: [userMessage('too late')] }));

  const spare = await c.beta.environments.create({ name: unique('spare-env') });
  const deleted = await c.beta.environments.delete(spare.id);
  const afterDelete = await attempt(c.beta.environments.retrieve(spare.id));
  return {
    agent, v2, versions, v1, environment, duplicate, session, titled, patched, archived,
    send_archived: sendArchived, deleted, spare, after_delete: afterDelete,
  };
});
