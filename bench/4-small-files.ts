import { join } from "node:path";
import { createStorage } from "unstorage";
import fsDriver from "../src/drivers/fs/index.ts";
import s3Driver from "../src/drivers/s3/index.ts";
import { createQueuedStorage, memoryQueue } from "../src/index.ts";
import { cpuSecondsOf, patternChunk, s3Options, startS3rver, type S3rverHandle } from "./_fixtures.ts";
import { startLatencyProxy } from "./_latency-proxy.ts";
import { formatNumber, KiB, rate } from "./_stats.ts";
import type { BenchOptions, BenchResult, Row } from "./_types.ts";

const GOAL = 3;
const SIZE = 16 * KiB;

interface Profile {
  name: string;
  files: number;
  concurrency: number;
  proxy: boolean;
}

/**
 * 4. Many small files: N × 16 KiB already written locally (queued-storage, delayed mode), then transferred by the
 * in-process queue with its concurrency, against the naive sequential loop
 * `for (const key of keys) await remote.setItemRaw(key, await local.getItemRaw(key))` over the same drivers.
 * Two remotes: the S3 stand-in on loopback (no added latency), and behind the 40 ms RTT / 100 Mbit/s proxy.
 * The files are split into rounds (batches); the two sides alternate batch by batch.
 */
export async function run(opts: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const rounds = 4;
  const profiles: Profile[] = [
    { name: "S3 stand-in on loopback", files: opts.full ? 10_000 : 2_000, concurrency: 16, proxy: false },
    { name: "S3 stand-in at 40 ms RTT + 100 Mbit/s", files: opts.full ? 10_000 : 1_000, concurrency: 32, proxy: true },
  ];
  const rows: Row[] = [];
  const server = await startS3rver({ bucket: "bench" });
  try {
    for (const profile of profiles) rows.push(await measure(opts, server, profile, rounds));
  } finally {
    await server.stop();
  }
  return {
    id: 4,
    title: "Many small files",
    params: {
      "file size": "16 KiB",
      files: profiles.map((p) => `${p.files} (${p.proxy ? "40 ms RTT" : "loopback"})`).join(", "),
      rounds,
      mode: opts.full ? "full" : "quick (use --full for 10,000 files each)",
    },
    rows,
    notes: ["Rate p95 column = slowest-tail batch (5th percentile of per-batch files/s)."],
    seconds: (performance.now() - started) / 1000,
  };
}

async function measure(opts: BenchOptions, server: S3rverHandle, profile: Profile, rounds: number): Promise<Row> {
  const proxy = profile.proxy ? await startLatencyProxy({ target: server.endpoint, oneWayMs: 20, bytesPerSecond: 12.5e6 }) : undefined;
  const endpoint = proxy?.endpoint ?? server.endpoint;
  const localDriver = fsDriver({ base: join(opts.tmp, profile.proxy ? "far" : "near") });
  const queue = memoryQueue({ concurrency: profile.concurrency });
  const tag = profile.proxy ? "far" : "near";
  const queued = createQueuedStorage({
    local: localDriver,
    remote: s3Driver(s3Options(server, { endpoint, base: `${tag}-queued` })),
    queue,
    delayed: true,
  });
  const local = createStorage({ driver: localDriver });
  const remote = createStorage({ driver: s3Driver(s3Options(server, { endpoint, base: `${tag}-naive` })) });
  try {
    opts.log(`4: writing ${profile.files} × 16 KiB locally (${profile.name})`);
    const keys = Array.from({ length: profile.files }, (_, i) => `files:${String(i).padStart(5, "0")}.bin`);
    const warmup = Array.from({ length: 200 }, (_, i) => `warmup:${i}.bin`);
    const value = patternChunk(SIZE, 4);
    const all = [...warmup, ...keys];
    for (let i = 0; i < all.length; i += 32) await Promise.all(all.slice(i, i + 32).map((key) => queued.setItemRaw(key, value)));
    // Both sides once, untimed, on other keys: s3rver, undici and our code all run faster once warm.
    for (const key of warmup.slice(0, 100)) await remote.setItemRaw(key, await local.getItemRaw(key));
    for (const key of warmup.slice(100)) await queued.transfer(key);
    await queued.drain();
    const serverCpu = { naive: 0, queued: 0, naiveMs: 0, queuedMs: 0, client: 0 };

    const naive: number[] = [];
    const concurrent: number[] = [];
    const batch = Math.ceil(keys.length / rounds);
    for (let round = 0; round < rounds; round++) {
      const slice = keys.slice(round * batch, (round + 1) * batch);
      const sides = [
        async (): Promise<void> => {
          const [t0, cpu0] = [performance.now(), await cpuSecondsOf(server.pid)];
          for (const key of slice) await remote.setItemRaw(key, await local.getItemRaw(key));
          const ms = performance.now() - t0;
          naive.push(slice.length / (ms / 1000));
          serverCpu.naive += ((await cpuSecondsOf(server.pid)) ?? 0) - (cpu0 ?? 0);
          serverCpu.naiveMs += ms;
        },
        async (): Promise<void> => {
          const [t0, cpu0, own] = [performance.now(), await cpuSecondsOf(server.pid), process.cpuUsage()];
          for (const key of slice) await queued.transfer(key);
          await queued.drain();
          const ms = performance.now() - t0;
          const used = process.cpuUsage(own);
          serverCpu.client += (used.user + used.system) / 1e6;
          concurrent.push(slice.length / (ms / 1000));
          serverCpu.queued += ((await cpuSecondsOf(server.pid)) ?? 0) - (cpu0 ?? 0);
          serverCpu.queuedMs += ms;
        },
      ];
      for (const side of round % 2 === 0 ? sides : sides.reverse()) await side();
      opts.log(`4: ${profile.name}, batch ${round + 1}/${rounds}: naive ${formatNumber(naive.at(-1)!)} files/s, ` +
        `queued ${formatNumber(concurrent.at(-1)!)} files/s`);
    }
    const states = await Promise.all(keys.map((key) => queued.status(key)));
    const missing = states.filter((s) => s?.state !== "remote").length;
    if (missing) throw new Error(`4: ${missing} files did not reach the remote`);
    const base = rate("naive sequential loop", "files/s", naive);
    const cand = rate(`queued-storage, memoryQueue concurrency ${profile.concurrency}`, "files/s", concurrent);
    const ratio = cand.median / base.median;
    return {
      bench: 4,
      name: `${profile.files} × 16 KiB, ${profile.name}`,
      baseline: base,
      candidate: cand,
      ratio,
      ratioLabel: "throughput, candidate ÷ baseline",
      goal: `≥ ${GOAL}×`,
      met: ratio >= GOAL,
      extra: {
        "queue concurrency": profile.concurrency,
        "MiB/s (candidate)": formatNumber((cand.median * SIZE) / 1048576),
        "S3 stand-in busy (candidate)": `${Math.round((serverCpu.queued / serverCpu.queuedMs) * 100_000)}% of a core`,
        "this process busy (candidate)": `${Math.round((serverCpu.client / serverCpu.queuedMs) * 100_000)}% of a core`,
        "S3 stand-in busy (baseline)": `${Math.round((serverCpu.naive / serverCpu.naiveMs) * 100_000)}% of a core`,
      },
    };
  } finally {
    await queued.dispose();
    await proxy?.stop();
  }
}
