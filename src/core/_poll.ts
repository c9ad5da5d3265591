import type { FlagRecord } from "../contracts.ts";
import type { _Context } from "./context.ts";

/** Poll the key's record (5 ms, doubling to 200 ms) while `waiting(record)` holds; resolves to the last record read. */
export async function _pollWhile(
  ctx: _Context,
  key: string,
  record: FlagRecord | null,
  waiting: (record: FlagRecord) => boolean,
): Promise<FlagRecord | null> {
  for (let wait = 5; record && waiting(record); wait = Math.min(wait * 2, 200)) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    record = await ctx.flags.get(ctx.flagKey(key));
  }
  return record;
}
