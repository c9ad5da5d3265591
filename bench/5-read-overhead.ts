import { join } from "node:path";
import { createStorage } from "unstorage";
import fsDriver from "../src/drivers/fs/index.ts";
import s3Driver from "../src/drivers/s3/index.ts";
import { createQueuedStorage, memoryFlags } from "../src/index.ts";
import type { FlagStore } from "../src/contracts.ts";
import { upstashFlags } from "../src/flags/upstash.ts";
import { randomPrefix, redisDeleteMatching } from "../test/support/redis.ts";
import { countedFlags } from "./_counting.ts";
import { upstashOrSkip } from "./_upstash.ts";
import { countingFetch, s3Options, startS3rver } from "./_fixtures.ts";
import { formatNumber, formatSize, KiB, latency, measureLatencies, MiB } from "./_stats.ts";
import type { BenchOptions, BenchResult, Row } from "./_types.ts";

/**
 * 5. Read overhead: `getItem` of a transferred key (state `remote`) through queued-storage against the bare remote
 * driver (our S3 driver on the loopback stand-in), with in-process state (memoryFlags, calls counted) and with
 * upstashFlags through the Upstash-REST proxy in front of the real redis-server (HTTP requests from its log).
 * Goal from DESIGN.md: at most one state-store round trip per read, and no extra request to the remote.
 */
export async function run(opts: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const rounds = opts.full ? 200 : 60;
  const iterations = 10;
  const server = await startS3rver({ bucket: "bench" });
  const { proxy, skipped } = await upstashOrSkip(opts, 5);
  const prefix = randomPrefix("bench5");
  const s3Bare = countingFetch();
  const s3Queued = countingFetch();
  const bare = createStorage({ driver: s3Driver(s3Options(server, { fetch: s3Bare.fetch })) });
  const memory = countedFlags(memoryFlags());
  const stores: Array<{ name: string; flags: FlagStore; count(): number; reset(): void }> = [
    { name: "in-process state", flags: memory.flags, count: memory.total, reset: memory.reset },
  ];
  if (proxy) {
    stores.push({
      name: "upstashFlags over loopback",
      flags: upstashFlags({ url: proxy.url, token: proxy.token, prefix }),
      count: () => proxy.requests.length,
      reset: () => proxy.resetLog(),
    });
  }
  const rows: Row[] = [];
  try {
    for (const size of [KiB, MiB]) {
      const value = "r".repeat(size);
      const key = `read-${size}`;
      await bare.setItem(key, value);
      for (const store of stores) {
        const queued = createQueuedStorage({
          local: fsDriver({ base: join(opts.tmp, store.name.split(" ")[0]!) }),
          remote: s3Driver(s3Options(server, { fetch: s3Queued.fetch })),
          flags: store.flags,
        });
        await queued.setItem(key, value);
        await queued.drain();
        if ((await queued.status(key))?.state !== "remote") throw new Error(`5: ${key} was not transferred`);
        opts.log(`5: getItem ${formatSize(size)}, ${store.name}: ${rounds} interleaved rounds × ${iterations}`);
        const reads = { bare: 0, queued: 0 };
        store.reset();
        s3Bare.reset();
        s3Queued.reset();
        const samples = await measureLatencies(
          [
            { name: "bare", fn: () => (reads.bare++, bare.getItem(key)) },
            { name: "queued", fn: () => (reads.queued++, queued.getItem(key)) },
          ],
          { rounds, iterations },
        );
        const stateRequests = store.count() / reads.queued;
        const remoteRequests = s3Queued.count() / reads.queued;
        const bareRequests = s3Bare.count() / reads.bare;
        const base = latency("bare s3 driver", samples.get("bare")!);
        const cand = latency(`queued-storage, ${store.name}`, samples.get("queued")!);
        const ratio = cand.median / base.median;
        rows.push({
          bench: 5,
          name: `getItem ${formatSize(size)}, ${store.name}`,
          baseline: base,
          candidate: cand,
          ratio,
          ratioLabel: "latency, candidate ÷ baseline",
          goal: "report; ≤ 1 state request/read",
          met: stateRequests <= 1 && remoteRequests <= bareRequests,
          extra: {
            "state-store requests per read": formatNumber(stateRequests),
            "S3 requests per read (candidate)": formatNumber(remoteRequests),
            "S3 requests per read (baseline)": formatNumber(bareRequests),
            "added latency (median)": `${formatNumber(cand.median - base.median)} ms`,
          },
        });
        await queued.dispose();
      }
    }
  } finally {
    await proxy?.stop();
    await server.stop();
    await redisDeleteMatching(`${prefix}*`).catch(() => 0);
  }
  return {
    id: 5,
    title: "Read overhead",
    params: { rounds, "reads per side per round": iterations, remote: "s3rver on loopback", state: "memoryFlags; upstashFlags → REST proxy → redis-server" },
    rows,
    notes: [
      "In-process state: FlagStore calls counted (each would be one round trip to a remote store); Upstash: HTTP requests in the proxy's log.",
      ...(skipped ? [skipped] : []),
    ],
    seconds: (performance.now() - started) / 1000,
  };
}
