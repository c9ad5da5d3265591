import { requireRedis } from "../test/support/redis.ts";
import { startUpstashProxy, type UpstashProxy } from "../test/support/upstash-proxy.ts";
import type { BenchOptions } from "./_types.ts";

/**
 * The Upstash-REST proxy in front of the real redis-server, for the upstashFlags rows; without a redis-server those
 * rows are skipped, loudly (progress line and a note in the results), and the in-process rows still run.
 */
export async function upstashOrSkip(opts: BenchOptions, id: number): Promise<{ proxy?: UpstashProxy; skipped?: string }> {
  try {
    await requireRedis();
  } catch (error) {
    const skipped = `upstashFlags rows SKIPPED: ${(error as Error).message}`;
    opts.log(`${id}: ${skipped}`);
    process.stderr.write(`\n!!! benchmark ${id}: ${skipped}\n\n`);
    return { skipped };
  }
  return { proxy: await startUpstashProxy() };
}
