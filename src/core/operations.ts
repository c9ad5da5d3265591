import type { _Context } from "./context.ts";
import { _error } from "../_errors.ts";
import { _assertKey } from "../_keys.ts";
import { _toStatus } from "../flags/_transitions.ts";
import { _trackProgress } from "./_progress.ts";
import type { ListedStatus, ListPage, QueuedStorageControls, RetryQuery, TransferStatus } from "../types.ts";
import type { FlagStore, ListQuery, TransferStats } from "../contracts.ts";

/** The operator's controls (issue 21): counts, pages of records by state, retries. */
export type _Operations = Pick<QueuedStorageControls, "stats" | "list" | "retry" | "status">;

/** Keys retried at once by `retry({ state: "failed" })`, one list page each. */
const RETRY_PAGE = 100;

/**
 * `stats`, `list` and `retry` over the flag store, scoped to the storage's `prefix`. `transfer` is the storage's own
 * control: a retry is a transfer queued again, with the same guards.
 */
export function _createOperations(
  ctx: _Context,
  { transfer, status }: Pick<QueuedStorageControls, "transfer" | "status">,
): _Operations {
  // Bytes done of the transfers running in this process, added to `status` and `list` of `transferring` keys.
  const progress = _trackProgress(ctx);
  const withProgress = <S extends TransferStatus | null>(key: string, current: S): S => {
    const entry = current?.state === "transferring" ? progress.of(key, current.generation) : undefined;
    if (entry) current!.progress = entry.total === undefined ? { bytes: entry.bytes } : { bytes: entry.bytes, total: entry.total };
    return current;
  };
  const base = ctx.options.prefix ? `${ctx.options.prefix}:` : "";
  const store = (op: "stats" | "list"): Required<Pick<FlagStore, "stats" | "list">> => {
    const flags = ctx.flags;
    if (typeof flags.stats !== "function" || typeof flags.list !== "function") {
      throw _error(`${op}(): the flag store "${flags.name}" has no stats() and list(); memoryFlags, storageFlags and upstashFlags have`);
    }
    return flags as Required<Pick<FlagStore, "stats" | "list">>;
  };

  async function list(query: ListQuery = {}): Promise<ListPage> {
    if (!query || typeof query !== "object") throw _error("list(query): `query` must be an object", { retryable: false });
    const prefix = typeof query.prefix === "string" ? query.prefix.replace(/[/\\]/g, ":") : query.prefix;
    const page = await store("list").list({ ...query, prefix: base + (prefix ?? "") });
    const items: Array<[string, ListedStatus]> = [];
    for (const [flagKey, record] of page.items) {
      const status = _toStatus(record) as ListedStatus | null;
      if (!status) continue;
      const dlqId = status.error?.match(/\(dlqId ([^)\s]+)\)/)?.[1];
      if (dlqId) status.dlqId = dlqId;
      items.push([flagKey.slice(base.length), withProgress(flagKey.slice(base.length), status)]);
    }
    return { items, cursor: page.cursor };
  }

  async function retryMany(query: RetryQuery): Promise<Array<[string, TransferStatus | null]>> {
    if (query.state !== "failed") throw _error('retry(query): only { state: "failed" } can be retried in bulk', { retryable: false });
    const out: Array<[string, TransferStatus | null]> = [];
    let cursor: string | null = null;
    do {
      // Requeued keys leave the `failed` set; the cursor continues after the last key seen, so none is skipped.
      const page: ListPage = await list({ state: "failed", prefix: query.prefix, limit: RETRY_PAGE, ...(cursor && { cursor }) });
      const statuses = await Promise.all(page.items.map(([key]) => transfer(key)));
      page.items.forEach(([key], i) => out.push([key, statuses[i]!]));
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  return {
    status: async (key) => withProgress(key, await status(key)),
    async stats(): Promise<TransferStats> {
      const stats = await store("stats").stats(base);
      if (stats.oldestPending) stats.oldestPending.key = stats.oldestPending.key.slice(base.length);
      return stats;
    },
    list,
    retry: (async (target: string | RetryQuery) => {
      if (typeof target === "string") {
        _assertKey(target);
        return transfer(target);
      }
      if (!target || typeof target !== "object") throw _error("retry(key | { state: \"failed\" })", { retryable: false });
      return retryMany(target);
    }) as QueuedStorageControls["retry"],
  };
}
