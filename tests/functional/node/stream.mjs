// One streaming chat completion: client.chat.completions.create({...body, stream: true}).
// argv[2]: {"body": {...}, "headers": {...}, "abort_after_deltas": N?, "abort_after_chunks": N?}
// With abort_after_deltas (abort_after_chunks) the request is aborted, closing the connection
// as a client that goes away would, once N content deltas (N chunks of any kind) have arrived.
// Prints {"ok":true,"chunks":[...],"content":<concatenated deltas>,"finish_reasons":[...],
//         "usage":<usage chunk's usage or null>,"headers":{...},"aborted":bool}
// or {"ok":false,"error":<describeError>,"chunks":[...]} when the SDK raised.

import { client, describeError, emit, pick, spec } from './common.mjs';

const s = spec();
const body = { model: 'pincer', ...(s.body ?? {}), stream: true };
const controller = new AbortController();
const chunks = [];
let content = '';
let deltas = 0;
let aborted = false;
let headers = {};
try {
  const { data: stream, response } = await client()
    .chat.completions.create(body, { headers: s.headers ?? {}, signal: controller.signal })
    .withResponse();
  headers = pick(response.headers, ['x-pincer-session-id', 'content-type']);
  for await (const chunk of stream) {
    chunks.push(chunk);
    if (s.abort_after_chunks && chunks.length >= s.abort_after_chunks) {
      aborted = true;
      controller.abort();
      break;
    }
    const text = chunk.choices?.[0]?.delta?.content;
    if (text) {
      content += text;
      deltas += 1;
      if (s.abort_after_deltas && deltas >= s.abort_after_deltas) {
        aborted = true;
        controller.abort();
        break;
      }
    }
  }
  const finish_reasons = chunks.flatMap((c) => (c.choices ?? []).map((ch) => ch.finish_reason)).filter((r) => r);
  const usageChunk = chunks.find((c) => c.usage);
  emit({ ok: true, chunks, content, deltas, finish_reasons, usage: usageChunk ? usageChunk.usage : null, headers, aborted });
} catch (err) {
  if (aborted) emit({ ok: true, chunks, content, deltas, finish_reasons: [], usage: null, headers, aborted });
  else emit({ ok: false, error: describeError(err), chunks, headers });
}
