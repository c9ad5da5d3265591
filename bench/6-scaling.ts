import { join } from "node:path";
import fsDriver from "../src/drivers/fs/index.ts";
import s3Driver from "../src/drivers/s3/index.ts";
import { createQueuedStorage, memoryFlags, type QueuedStorage } from "../src/index.ts";
import type { FlagStore } from "../src/contracts.ts";
import { upstashFlags } from "../src/flags/upstash.ts";
import { randomPrefix, redisDeleteMatching } from "../test/support/redis.ts";
import type { UpstashProxy } from "../test/support/upstash-proxy.ts";
import { countedFlags } from "./_counting.ts";
import { upstashOrSkip } from "./_upstash.ts";
import { patternChunk, s3Options, startS3rver } from "./_fixtures.ts";
import { formatNumber, formatSize, KiB, latency, mibPerSecond, percentile } from "./_stats.ts";
import type { BenchOptions, BenchResult, Row } from "./_types.ts";

const LEVELS = [1, 10, 100];
const SIZE = 64 * KiB;

interface Level {
  latencies: number[];
  /** MiB/s from the first write until the queue is drained, per round. */
  throughput: number[];
  writes: number;
  /** State-store HTTP requests (Upstash) or FlagStore calls (in-process), over writes and their transfers. */
  requests: number;
  /** Redis commands (Upstash): auto-pipelining may carry several in one HTTP request. */
  commands: number;
}

/**
 * 6. Scaling: N concurrent writers (1, 10, 100) each writing 64 KiB values through queued-storage (fs local, S3
 * stand-in on loopback, in-process queue with its default concurrency 4), with in-process state and with
 * upstashFlags. Reports write latency, transfer throughput (first write → drained) and state-store requests per
 * write, which must not grow with N (DESIGN.md: one round trip per write, two per transfer).
 */
export async function run(opts: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const total = opts.full ? 1000 : 400;
  const rounds = 3;
  const server = await startS3rver({ bucket: "bench" });
  const { proxy, skipped } = await upstashOrSkip(opts, 6);
  const prefix = randomPrefix("bench6");
  const value = patternChunk(SIZE, 6);
  const memory = countedFlags(memoryFlags());
  const stores: Array<{
    name: string;
    unit: string;
    flags: FlagStore;
    count(): { requests: number; commands: number };
    reset(): void;
  }> = [
    {
      name: "in-process state",
      unit: "FlagStore calls",
      flags: memory.flags,
      count: (): { requests: number; commands: number } => ({ requests: memory.total(), commands: memory.total() }),
      reset: memory.reset,
    },
  ];
  if (proxy) {
    stores.push({
      name: "upstashFlags over loopback",
      unit: "HTTP requests",
      flags: upstashFlags({ url: proxy.url, token: proxy.token, prefix }),
      count: () => countProxy(proxy),
      reset: () => proxy.resetLog(),
    });
  }
  const rows: Row[] = [];
  try {
    for (const store of stores) {
      const storage = createQueuedStorage({
        local: fsDriver({ base: join(opts.tmp, store.name.split(" ")[0]!) }),
        remote: s3Driver(s3Options(server, { base: store.name.split(" ")[0]! })),
        flags: store.flags,
      });
      const levels = new Map<number, Level>(LEVELS.map((n) => [n, { latencies: [], throughput: [], writes: 0, requests: 0, commands: 0 }]));
      await writeRound(storage, 10, 50, value, "warmup");
      for (let round = 0; round < rounds; round++) {
        for (const writers of round % 2 === 0 ? LEVELS : [...LEVELS].reverse()) {
          const level = levels.get(writers)!;
          store.reset();
          const result = await writeRound(storage, writers, total, value, `r${round}-n${writers}`);
          const counted = store.count();
          level.latencies.push(...result.latencies);
          level.throughput.push(result.throughput);
          level.writes += total;
          level.requests += counted.requests;
          level.commands += counted.commands;
          opts.log(`6: ${store.name}, ${writers} writers, round ${round + 1}/${rounds}: ` +
            `${formatNumber(result.throughput)} MiB/s, ${formatNumber(counted.requests / total)} requests/write`);
        }
      }
      await storage.dispose();
      const one = levels.get(1)!;
      for (const writers of LEVELS.slice(1)) {
        const level = levels.get(writers)!;
        const base = latency("1 writer", one.latencies);
        const cand = latency(`${writers} writers`, level.latencies);
        const perWrite = (l: Level): number => l.requests / l.writes;
        const commandsPerWrite = (l: Level): number => l.commands / l.writes;
        const ratio = cand.median / base.median;
        rows.push({
          bench: 6,
          name: `${formatSize(SIZE)} writes, ${writers} vs 1 writer, ${store.name}`,
          baseline: base,
          candidate: cand,
          ratio,
          ratioLabel: "write latency, N writers ÷ 1 writer",
          goal: "state requests/write constant",
          met: perWrite(level) <= perWrite(one) * 1.01 && commandsPerWrite(level) <= commandsPerWrite(one) * 1.01,
          extra: {
            [`${store.unit} per write (1 → ${writers})`]: `${formatNumber(perWrite(one))} → ${formatNumber(perWrite(level))}`,
            ...(store.unit === "HTTP requests"
              ? { [`Redis commands per write (1 → ${writers})`]: `${formatNumber(commandsPerWrite(one))} → ${formatNumber(commandsPerWrite(level))}` }
              : {}),
            [`transfer MiB/s (1 → ${writers})`]: `${formatNumber(percentile(one.throughput, 50))} → ${formatNumber(percentile(level.throughput, 50))}`,
            "throughput ratio": formatNumber(percentile(level.throughput, 50) / percentile(one.throughput, 50)),
          },
        });
      }
    }
  } finally {
    await proxy?.stop();
    await server.stop();
    await redisDeleteMatching(`${prefix}*`).catch(() => 0);
  }
  return {
    id: 6,
    title: "Scaling with concurrent writers",
    params: { "value size": formatSize(SIZE), "writes per level per round": total, rounds, "queue concurrency": 4, remote: "s3rver on loopback" },
    rows,
    notes: [
      "Requests per write count the write (begin) and its transfer (claim, settle): 3 state-store operations per write.",
      ...(skipped ? [skipped] : []),
    ],
    seconds: (performance.now() - started) / 1000,
  };
}

async function writeRound(
  storage: QueuedStorage,
  writers: number,
  total: number,
  value: Uint8Array,
  tag: string,
): Promise<{ latencies: number[]; throughput: number }> {
  const latencies: number[] = [];
  const perWriter = Math.ceil(total / writers);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) {
        const start = performance.now();
        await storage.setItemRaw(`${tag}:w${w}:${i}`, value);
        latencies.push(performance.now() - start);
      }
    }),
  );
  await storage.drain();
  return { latencies, throughput: mibPerSecond(writers * perWriter * value.byteLength, performance.now() - t0) };
}

function countProxy(proxy: UpstashProxy): { requests: number; commands: number } {
  return { requests: proxy.requests.length, commands: proxy.requests.reduce((sum, r) => sum + r.commands.length, 0) };
}
