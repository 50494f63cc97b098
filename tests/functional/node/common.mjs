// Shared by the scripts in this directory: builds an OpenAI client pointed at Pincer and
// prints results as one JSON line on stdout (the pytest side parses the last line).
//
// Environment:
//   PINCER_BASE_URL  the server's OpenAI base URL, e.g. http://127.0.0.1:8080/v1 (required)
//   PINCER_AGENT_ID  sent as x-openclaw-agent-id on every request (optional)
//   PINCER_API_KEY   the bearer token (optional; any string when auth is off)
// argv[2] (optional): a JSON object with the call's parameters, described in each script.

import OpenAI from 'openai';

export function spec() {
  return process.argv.length > 2 ? JSON.parse(process.argv[2]) : {};
}

export function client() {
  const baseURL = process.env.PINCER_BASE_URL;
  if (!baseURL) throw new Error('PINCER_BASE_URL is not set');
  const defaultHeaders = {};
  if (process.env.PINCER_AGENT_ID) defaultHeaders['x-openclaw-agent-id'] = process.env.PINCER_AGENT_ID;
  // No retries: a 409 or 5xx must reach the test as it was sent, not be retried by the SDK.
  return new OpenAI({
    baseURL,
    apiKey: process.env.PINCER_API_KEY || 'unused',
    defaultHeaders,
    maxRetries: 0,
    timeout: 60_000,
  });
}

// The fields of an SDK error the tests look at.
export function describeError(err) {
  const out = { name: err?.constructor?.name ?? typeof err, message: String(err?.message ?? err) };
  if (err instanceof OpenAI.APIError) {
    out.api_error = true;
    out.status = err.status ?? null;
    out.type = err.type ?? null;
    out.code = err.code ?? null;
    out.error = err.error ?? null;
    out.is_conflict = err instanceof OpenAI.ConflictError;
    out.is_not_found = err instanceof OpenAI.NotFoundError;
    out.is_bad_request = err instanceof OpenAI.BadRequestError;
    out.is_authentication = err instanceof OpenAI.AuthenticationError;
  }
  return out;
}

export function emit(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

export function pick(headers, names) {
  const out = {};
  for (const n of names) {
    const v = headers.get(n);
    if (v !== null) out[n] = v;
  }
  return out;
}

export { OpenAI };
