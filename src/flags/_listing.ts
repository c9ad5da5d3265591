import { _error } from "../_errors.ts";
import type { ListQuery, TransferState } from "../contracts.ts";

// list() arguments as every FlagStore checks them: a bad limit, state, prefix or cursor is refused before any I/O.

export const _STATES: readonly TransferState[] = ["local", "queued", "transferring", "remote", "failed"];
/** States of a write that has not reached the remote yet. */
export const _UNFINISHED: ReadonlySet<string> = new Set(["local", "queued", "transferring", "failed"]);
const MAX_LIMIT = 1000;
const MAX_TEXT = 2048;
const CURSOR = "c1.";

/** A checked list query: `after` is the last key of the previous page (exclusive), inside `prefix`. */
export interface _ListArgs {
  state?: TransferState;
  prefix: string;
  after: string;
  limit: number;
}

export function _listArgs(query: ListQuery | undefined): _ListArgs {
  const { state, prefix = "", cursor, limit = 100 } = query ?? {};
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw _error(`list: \`limit\` must be an integer from 1 to ${MAX_LIMIT}, got ${_show(limit)}`, { retryable: false });
  }
  if (state !== undefined && !_STATES.includes(state)) {
    throw _error(`list: \`state\` must be one of ${_STATES.join(", ")}, got ${_show(state)}`, { retryable: false });
  }
  if (typeof prefix !== "string" || prefix.length > MAX_TEXT) {
    throw _error(`list: \`prefix\` must be a string of at most ${MAX_TEXT} characters`, { retryable: false });
  }
  const after = cursor === undefined || cursor === null || cursor === "" ? "" : _decodeCursor(cursor);
  if (after && !after.startsWith(prefix)) {
    throw _error("list: `cursor` belongs to another prefix; start again without a cursor", { retryable: false });
  }
  return { state, prefix, after, limit };
}

/** The cursor that continues after `key`: opaque to callers, checked when it comes back. */
export function _cursorAfter(key: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(key)) binary += String.fromCharCode(byte);
  return CURSOR + btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function _decodeCursor(cursor: unknown): string {
  const bad = (): Error =>
    _error("list: `cursor` is not one that list() issued; start again without a cursor", { retryable: false });
  if (typeof cursor !== "string" || cursor.length > MAX_TEXT * 2 || !cursor.startsWith(CURSOR)) throw bad();
  const body = cursor.slice(CURSOR.length);
  if (!/^[\w-]+$/.test(body)) throw bad();
  try {
    const binary = atob(body.replaceAll("-", "+").replaceAll("_", "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    throw bad();
  }
}

function _show(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
