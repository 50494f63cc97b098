// One non-streaming chat completion: client.chat.completions.create(body, {headers}).
// argv[2]: {"body": {...}, "headers": {...}}; body.model defaults to "pincer".
// Prints {"ok":true,"completion":<ChatCompletion>,"headers":{x-pincer-session-id,content-type}}
// or {"ok":false,"error":<describeError>}.

import { client, describeError, emit, pick, spec } from './common.mjs';

const s = spec();
const body = { model: 'pincer', ...(s.body ?? {}) };
try {
  const { data, response } = await client()
    .chat.completions.create(body, { headers: s.headers ?? {} })
    .withResponse();
  emit({ ok: true, completion: data, headers: pick(response.headers, ['x-pincer-session-id', 'content-type']) });
} catch (err) {
  emit({ ok: false, error: describeError(err) });
}
