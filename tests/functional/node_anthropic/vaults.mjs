// Scenario 10: vaults and credentials; secrets are write-only; sessions take vault_ids.
// argv[2]: {"tag": mock tag, "token": the secret}

import { attempt, client, collect, main, spec, unique } from './common.mjs';

await main(async (partial) => {
  const s = spec();
  const c = client();
  const vault = await c.beta.vaults.create({ display_name: unique('vault'), metadata: { team: 'sdk' } });
  partial.vault = vault;
  const credential = await c.beta.vaults.credentials.create(vault.id, {
    display_name: 'example mcp',
    auth: { type: 'static_bearer', mcp_server_url: 'https://mcp.example.com/', token: s.token },
  });
  partial.credential = credential;
  const credentials = await collect(c.beta.vaults.credentials.list(vault.id));
  const retrieved = await c.beta.vaults.credentials.retrieve(credential.id, { vault_id: vault.id });
  const vaultRetrieved = await c.beta.vaults.retrieve(vault.id);
  const vaults = await collect(c.beta.vaults.list());

  const agent = await c.beta.agents.create({ name: unique('agent'), model: 'claude-sonnet-4-6', system: `[mock:${s.tag}]` });
  const environment = await c.beta.environments.create({ name: unique('env') });
  const session = await c.beta.sessions.create({ agent: agent.id, environment_id: environment.id, vault_ids: [vault.id] });
  const sessionRetrieved = await c.beta.sessions.retrieve(session.id);
  const unknownVault = await attempt(c.beta.sessions.create({
    agent: agent.id, environment_id: environment.id, vault_ids: ['vlt_missing0000'],
  }));
  return {
    vault, credential, credentials, retrieved, vault_retrieved: vaultRetrieved, vaults,
    session, session_retrieved: sessionRetrieved, unknown_vault: unknownVault,
  };
});
