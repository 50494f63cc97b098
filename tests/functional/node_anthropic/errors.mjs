// Scenario 7: HTTP errors surface as the SDK's typed errors.
// argv[2]: {"tag": mock tag}
// Prints {not_found, session_not_found, conflict, bad_request, unauthenticated} (each an
// attempt(): {ok:false, error:describeError}) plus the updated agent.

import { attempt, client, main, spec, unique } from './common.mjs';

await main(async () => {
  const s = spec();
  const c = client();
  const notFound = await attempt(c.beta.agents.retrieve('agt_missing'));
  const sessionNotFound = await attempt(c.beta.sessions.retrieve('sesn_missing'));
  const agent = await c.beta.agents.create({ name: unique('agent'), model: 'claude-sonnet-4-6', system: `[mock:${s.tag}]` });
  const updated = await c.beta.agents.update(agent.id, { version: agent.version, description: 'first update' });
  const conflict = await attempt(c.beta.agents.update(agent.id, { version: agent.version, description: 'stale' }));
  const badRequest = await attempt(c.beta.agents.create({ name: unique('agent'), system: 'no model' }));
  const unauthenticated = await attempt(client({ apiKey: 'not-the-token' }).beta.agents.list());
  return {
    not_found: notFound, session_not_found: sessionNotFound, agent, updated, conflict,
    bad_request: badRequest, unauthenticated,
    after_conflict: await c.beta.agents.retrieve(agent.id),
  };
});
