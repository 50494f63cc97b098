// Shared by the scripts in this directory: builds an official Anthropic SDK client pointed at
// Pincer's /anthropic dialect, reads a session's event stream with deadlines, and prints the
// script's result as one JSON line on stdout (the pytest side parses the last line).
//
// Environment:
//   PINCER_SDK             which installed SDK to use: "sdk-latest" (1.14.x) or "sdk-0-89" (0.89.x)
//   PINCER_ANTHROPIC_URL   the SDK's baseURL, e.g. http://127.0.0.1:8080/anthropic (required)
//   PINCER_NATIVE_URL      the server's root, for the few native calls a script makes
//   PINCER_API_KEY         the server's PINCER_API_TOKEN
// argv[2]: a JSON object with the scenario's parameters (mock tag, …), described in each script.
//
// Every script runs through main(): its result is printed as {"ok":true, …, "wire":[…]}; an
// exception is printed as {"ok":false, "error":{…}, "partial":{…}} (what was seen until then),
// and the process exits at once so an open stream cannot keep it alive.

const sdkName = process.env.PINCER_SDK;
if (!sdkName) throw new Error('PINCER_SDK is not set');
export const sdk = await import(sdkName);
export const Anthropic = sdk.default;

export function spec() {
  return process.argv.length > 2 ? JSON.parse(process.argv[2]) : {};
}

// Every HTTP exchange of the clients made here: the request's method, path, query and auth
// style, the response status and, for JSON responses, the raw body text.
export const wire = [];

async function recordingFetch(url, init) {
  const headers = new Headers(init?.headers ?? {});
  const u = new URL(typeof url === 'string' ? url : url.url);
  const entry = {
    method: init?.method ?? 'GET',
    path: u.pathname,
    query: u.search,
    x_api_key: headers.has('x-api-key'),
    bearer: (headers.get('authorization') ?? '').startsWith('Bearer '),
    anthropic_version: headers.get('anthropic-version'),
    anthropic_beta: headers.get('anthropic-beta'),
  };
  wire.push(entry);
  const resp = await fetch(url, init);
  entry.status = resp.status;
  entry.request_id = resp.headers.get('request-id');
  entry.content_type = resp.headers.get('content-type');
  if ((entry.content_type ?? '').startsWith('application/json')) entry.body = await resp.clone().text();
  return resp;
}

// No retries: a 409 or 5xx must reach the test as the server sent it.
export function client(opts = {}) {
  const baseURL = process.env.PINCER_ANTHROPIC_URL;
  if (!baseURL) throw new Error('PINCER_ANTHROPIC_URL is not set');
  return new Anthropic({
    baseURL,
    apiKey: opts.apiKey ?? process.env.PINCER_API_KEY,
    maxRetries: 0,
    timeout: 60_000,
    fetch: recordingFetch,
  });
}

// A call on the server's native API (Bearer token), for setup a script cannot do through the SDK.
export async function native(method, path, body) {
  const resp = await fetch(process.env.PINCER_NATIVE_URL + path, {
    method,
    headers: { authorization: `Bearer ${process.env.PINCER_API_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
  return JSON.parse(text);
}

// The fields of an SDK error the tests look at.
export function describeError(err) {
  const out = { name: err?.constructor?.name ?? typeof err, message: String(err?.message ?? err) };
  if (err instanceof sdk.APIError) {
    out.api_error = true;
    out.status = err.status ?? null;
    out.type = err.type ?? null;
    out.error = err.error ?? null;
    out.request_id = err.requestID ?? null;
    out.should_retry = err.headers?.get?.('x-should-retry') ?? null;
    out.is_not_found = err instanceof sdk.NotFoundError;
    out.is_conflict = err instanceof sdk.ConflictError;
    out.is_bad_request = err instanceof sdk.BadRequestError;
    out.is_authentication = err instanceof sdk.AuthenticationError;
  } else if (err?.stack) {
    out.stack = String(err.stack);
  }
  return out;
}

// Runs `promise` and returns {ok:true,value} or {ok:false,error:describeError(err)}.
export async function attempt(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}

export function emit(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

// For scripts the test steps through: tells it that phase `name` was reached (a JSON line
// {"phase": name, ...data}), then waits for a line on stdin before going on.
export async function checkpoint(name, data = {}) {
  emit({ phase: name, ...data });
  process.stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      if (!buf.includes('\n')) return;
      process.stdin.off('data', onData);
      process.stdin.pause();
      resolve(buf.split('\n')[0]);
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', () => reject(new Error(`stdin closed at checkpoint ${name}`)));
  });
}

// Runs a scenario. `fn(partial)` returns the result object; `partial` collects what the
// scenario saw so far, printed if it throws.
export async function main(fn) {
  const partial = {};
  try {
    const result = await fn(partial);
    emit({ ok: true, sdk: sdkName, ...result, wire });
  } catch (err) {
    emit({ ok: false, sdk: sdkName, error: describeError(err), partial, wire });
  }
  process.exit(0);
}

export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

const TIMEOUT = Symbol('timeout');

// Reads a session's event stream with a deadline per wait. The stream is opened by
// `EventReader.open` and read through one iterator, so a scenario can wait for one event,
// act, and keep reading the same connection.
export class EventReader {
  static async open(c, sessionId) {
    const stream = await c.beta.sessions.events.stream(sessionId);
    return new EventReader(stream);
  }

  constructor(stream) {
    this.stream = stream;
    this.it = stream[Symbol.asyncIterator]();
    this.events = [];  // every event read so far, with the ms since open when it arrived
    this.opened = Date.now();
    this.pending = null;
  }

  // Reads until `pred(event)` holds; returns the events read by this call (the match last).
  async until(pred, what, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    const got = [];
    for (;;) {
      const remaining = deadline - Date.now();
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, remaining));
      });
      this.pending ??= this.it.next();
      const r = await Promise.race([this.pending, timeout]);
      clearTimeout(timer);
      if (r === TIMEOUT) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; read: ${JSON.stringify(got.map((e) => e.type))}`);
      }
      this.pending = null;
      if (r.done) throw new Error(`the stream ended while waiting for ${what}; read: ${JSON.stringify(got.map((e) => e.type))}`);
      got.push(r.value);
      this.events.push({ ...r.value, _at_ms: Date.now() - this.opened });
      if (pred(r.value)) return got;
    }
  }

  untilIdle(what = 'session.status_idle', timeoutMs = 30_000) {
    return this.until((e) => e.type === 'session.status_idle', what, timeoutMs);
  }

  close() {
    this.stream.controller.abort();
  }
}

export function userMessage(text) {
  return { type: 'user.message', content: [{ type: 'text', text }] };
}

// An agent, an environment and a session in one go (the agent's system prompt carries the
// mock tag).
export async function setup(c, tag, agentBody = {}) {
  const agent = await c.beta.agents.create({
    name: unique('agent'),
    model: 'claude-sonnet-4-6',
    system: `You are a test agent. [mock:${tag}]`,
    tools: [{ type: 'agent_toolset_20260401' }],
    ...agentBody,
  });
  const environment = await c.beta.environments.create({ name: unique('env') });
  const session = await c.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  return { agent, environment, session };
}

// Collects every item of an auto-paginating list, and counts the pages it fetched.
export async function collect(list) {
  const items = [];
  for await (const item of list) items.push(item);
  return items;
}

export async function pageCount(firstPagePromise) {
  let page = await firstPagePromise;
  let pages = 1;
  while (page.hasNextPage()) {
    page = await page.getNextPage();
    pages += 1;
  }
  return pages;
}
