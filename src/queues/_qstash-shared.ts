import { _error } from "../_errors.ts";

/**
 * The query parameter that marks the failure-callback URL: `<webhook url>?queued-storage=failure`. The queue
 * configures it as `Upstash-Failure-Callback`, and the handler knows from it (before reading the body) that a
 * request is a dead letter, which body size cap applies and which `sub` the signature must carry.
 */
export const _FAILURE_PARAM = "queued-storage";
export const _FAILURE_VALUE = "failure";

/**
 * A variable of `process.env` where there is one (Node, Bun, Deno's compat, Vercel Edge); `undefined` on runtimes
 * without `process` (Workers), where options must be passed explicitly. Never a bare `process`: edge bundlers choke.
 */
export function _env(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name];
  return value === "" ? undefined : value;
}

/** `url` with the failure marker added to its query; the same function on both ends, so `sub` matches exactly. */
export function _failureCallbackUrl(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set(_FAILURE_PARAM, _FAILURE_VALUE);
  return parsed.toString();
}

/** Whether a request URL carries the failure marker. */
export function _isFailureUrl(url: string): boolean {
  try {
    return new URL(url).searchParams.get(_FAILURE_PARAM) === _FAILURE_VALUE;
  } catch {
    return false;
  }
}

/** An absolute http(s) URL, or a construction error naming the option. */
export function _assertHttpUrl(option: string, value: unknown): asserts value is string {
  let parsed: URL | undefined;
  try {
    parsed = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
    throw _error(`option \`${option}\` must be an absolute http(s) URL, got ${JSON.stringify(value)}`, { scope: "qstash" });
  }
}
