import { join } from "node:path";
import { createStorage } from "unstorage";
import fsDriver from "../src/drivers/fs/index.ts";
import s3Driver from "../src/drivers/s3/index.ts";
import { createQueuedStorage, memoryQueue } from "../src/index.ts";
import { patternChunk, s3Options, startS3rver } from "./_fixtures.ts";
import { startLatencyProxy } from "./_latency-proxy.ts";
import { formatNumber, formatSize, latency, measureLatencies, mibPerSecond, MiB, percentile } from "./_stats.ts";
import type { BenchOptions, BenchResult } from "./_types.ts";

const GOAL = 20;
const ONE_WAY_MS = 20;
const BYTES_PER_SECOND = 12.5e6; // 100 Mbit/s

/**
 * 2. User-visible write latency against writing straight to a remote: the S3 stand-in behind a loopback proxy that
 * adds 20 ms each way and a shared 100 Mbit/s cap. Both sides use our S3 driver through that proxy; queued-storage
 * writes to fs locally and its in-process queue (concurrency 4) uploads in the background while the next writes are
 * measured. After each round the queue is drained (untimed, reported).
 */
export async function run(opts: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const size = MiB;
  const rounds = opts.full ? 20 : 6;
  const iterations = 10;
  const server = await startS3rver({ bucket: "bench" });
  const proxy = await startLatencyProxy({ target: server.endpoint, oneWayMs: ONE_WAY_MS, bytesPerSecond: BYTES_PER_SECOND });
  const value = patternChunk(size, 2);
  const direct = createStorage({ driver: s3Driver(s3Options(server, { endpoint: proxy.endpoint, base: "direct" })) });
  const queue = memoryQueue({ concurrency: 4 });
  const queued = createQueuedStorage({
    local: fsDriver({ base: join(opts.tmp, "local") }),
    remote: s3Driver(s3Options(server, { endpoint: proxy.endpoint, base: "queued" })),
    queue,
  });
  let n = 0;
  const drains: Array<{ ms: number; writes: number }> = [];
  let pending = 0;
  let roundStart = 0;
  try {
    opts.log(`2: ${formatSize(size)} writes, ${rounds} interleaved rounds × ${iterations} per side, 40 ms RTT, 100 Mbit/s`);
    const samples = await measureLatencies(
      [
        { name: "direct", fn: () => direct.setItemRaw(`w${n++}`, value) },
        {
          name: "queued",
          fn: () => {
            if (pending++ === 0) roundStart = performance.now();
            return queued.setItemRaw(`w${n++}`, value);
          },
          async afterRound() {
            await queued.drain();
            // From the round's first write: its transfers started while the round was still writing.
            drains.push({ ms: performance.now() - roundStart, writes: pending });
            pending = 0;
          },
        },
      ],
      { rounds, iterations, warmupIterations: 2 },
    );
    await queued.drain();
    const states = await Promise.all(Array.from({ length: n }, (_, i) => queued.status(`w${i}`)));
    const notRemote = states.filter((s) => s && s.state !== "remote").length;
    if (notRemote > 0) throw new Error(`2: ${notRemote} queued writes did not reach the remote`);
    const base = latency("straight to remote (s3 driver)", samples.get("direct")!);
    const cand = latency("queued-storage (fs local)", samples.get("queued")!);
    const ratio = base.median / cand.median;
    const drainRates = drains.filter((d) => d.writes > 0).map((d) => mibPerSecond(d.writes * size, d.ms));
    return {
      id: 2,
      title: "User-visible write latency vs writing straight to a remote",
      params: { size: formatSize(size), rounds, "writes per side per round": iterations, "round trip": "40 ms", bandwidth: "100 Mbit/s" },
      rows: [
        {
          bench: 2,
          name: `setItemRaw ${formatSize(size)}, remote 40 ms RTT + 100 Mbit/s`,
          baseline: base,
          candidate: cand,
          ratio,
          ratioLabel: "speed-up at the median, baseline ÷ candidate latency",
          goal: `≥ ${GOAL}×`,
          met: ratio >= GOAL,
          extra: {
            "p95 speed-up": formatNumber(base.p95 / cand.p95),
            "background transfer rate (first write → drained, median)": `${formatNumber(percentile(drainRates, 50))} MiB/s of a 11.9 MiB/s link`,
            "queue concurrency": 4,
          },
        },
      ],
      notes: ["The proxy runs in its own process; s3rver in another. Transfers run while the next writes are measured."],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await queued.dispose();
    await proxy.stop();
    await server.stop();
  }
}
