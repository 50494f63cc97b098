// GET /v1/models through client.models.list(). Prints {"ok":true,"ids":[...],"models":[...]}
// (every entry the SDK's page iterator yields) or {"ok":false,"error":<describeError>}.

import { client, describeError, emit } from './common.mjs';

try {
  const models = [];
  for await (const m of client().models.list()) models.push(m);
  emit({ ok: true, ids: models.map((m) => m.id), models });
} catch (err) {
  emit({ ok: false, error: describeError(err) });
}
