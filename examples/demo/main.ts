// `npm start`: queued-storage on the embedded default, no network, no accounts.
// fs local and fs "remote" directories under .data/demo, state in storageFlags (fs), the in-process queue.
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createQueuedStorage, memoryQueue, storageFlags, transferAndDelete, type QueuedStorage } from "../../src/index.ts";
import fsDriver from "../../src/drivers/fs/index.ts";
import { farAway, generatedStream, formatBytes, printTable, progressBar } from "./_helpers.ts";

const DIR = ".data/demo";
const BIG = 48 * 1024 * 1024;
await rm(DIR, { recursive: true, force: true });

const local = fsDriver({ base: `${DIR}/local` });
// The "remote" is a directory too, behind 200 ms of latency per request and a 32 MiB/s cap, so transfers take a moment.
const remote = farAway(fsDriver({ base: `${DIR}/remote` }), { latencyMs: 200, bytesPerSecond: 32 * 1024 * 1024 });
const flags = storageFlags(fsDriver({ base: `${DIR}/state` }));
const queue = memoryQueue({ concurrency: 3 });
let announce = false;
const storage = createQueuedStorage({
  local,
  remote,
  flags,
  queue,
  // url(key): where a browser would fetch each key. Locally the route of createFileHandler; on the "remote" (a
  // directory here) its file URL. With the S3 driver as remote, the remote URL is a presigned (or public) S3 URL.
  localUrl: "/files/",
  remoteUrl: `${pathToFileURL(resolve(`${DIR}/remote`)).href}/`,
  onTransferred: (e) => {
    if (announce) log(`  ✓ transferred ${e.key}`);
  },
});
const log = (line: string): void => console.log(line);
const writes = new Map<string, { bytes: number; ms: number }>();

/** Write, then read the key back at once: its transfer was queued, but the remote is 200 ms away, so the read is local. */
async function timedWrite(key: string, bytes: number, write: () => Promise<void>): Promise<void> {
  const start = performance.now();
  await write();
  const ms = performance.now() - start;
  writes.set(key, { bytes, ms });
  const [meta, url] = await Promise.all([storage.getMeta(key), storage.url(key)]);
  log(`  wrote ${key.padEnd(20)} ${formatBytes(bytes).padStart(9)} in ${ms.toFixed(1).padStart(6)} ms; read right away: state=${String(meta?.state).padEnd(12)} served from ${String(meta?.tier).padEnd(6)} url(key) = ${url}`);
}

log("1. Writing files: each write returns once the bytes are on local disk and its transfer is queued.");
log("   Reads right away are served from the local tier (the remote is 200 ms away, so no transfer is done yet):");
const text = "Hello from queued-storage!\n".repeat(40);
await timedWrite("docs:hello.txt", text.length, () => storage.setItem("docs:hello.txt", text));
const settings = { theme: "dark", uploads: 3 };
await timedWrite("docs:settings.json", JSON.stringify(settings).length, () => storage.setItem("docs:settings.json", settings));
const avatar = crypto.getRandomValues(new Uint8Array(64 * 1024));
await timedWrite("images:avatar.bin", avatar.length, () => storage.setItemRaw("images:avatar.bin", avatar));
await timedWrite("images:banner.bin", 1024 * 1024, () =>
  storage.setItemRaw("images:banner.bin", new Blob([new Uint8Array(1024 * 1024).fill(7)])),
);
await timedWrite("videos:big.bin", BIG, () => storage.setItemRaw("videos:big.bin", generatedStream(BIG)));

log("\n2. Transfer progress (the in-process queue, 3 at a time):");
announce = true;
const progress = setInterval(async () => {
  const states = await Promise.all([...writes.keys()].map(async (key) => (await storage.status(key))?.state));
  const counts = states.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s ?? "none"]: (acc[s ?? "none"] ?? 0) + 1 }), {});
  // status(key).progress: bytes done of a transfer running in this process, and the size when the local driver knows it.
  const { state, progress: done } = (await storage.status("videos:big.bin")) ?? {};
  const big = `videos:big.bin ${done ? progressBar(done.bytes, done.total ?? BIG) : state}, url ${await storage.url("videos:big.bin")}`;
  log(`  ${Object.entries(counts).map(([s, n]) => `${s}: ${n}`).join(", ")}  (${big})`);
}, 150);
await storage.drain();
clearInterval(progress);

log("\n3. Once transferred, reads are served from the remote tier:");
await showTiers(storage);
const roundTrip = (await storage.getItemRaw("videos:big.bin", { type: "stream" })) as ReadableStream<Uint8Array>;
let streamed = 0;
const reader = roundTrip.getReader();
for (let read = await reader.read(); !read.done; read = await reader.read()) streamed += read.value.length;
log(`  streamed videos:big.bin back from the remote: ${formatBytes(streamed)}`);

log("\n4. A transferAndDelete pass: the same files, re-transferred, local copies removed afterwards.");
await storage.dispose();
const cleanup = createQueuedStorage({
  local: fsDriver({ base: `${DIR}/local` }),
  remote: farAway(fsDriver({ base: `${DIR}/remote` }), { latencyMs: 200, bytesPerSecond: 32 * 1024 * 1024 }),
  flags: storageFlags(fsDriver({ base: `${DIR}/state` })),
  task: transferAndDelete,
});
for (const key of writes.keys()) await cleanup.transfer(key);
await cleanup.drain();

log("\n5. Summary");
const rows: string[][] = [];
for (const [key, { bytes, ms }] of writes) {
  const status = await cleanup.status(key);
  const meta = await cleanup.getMeta(key);
  const onLocal = await fsDriver({ base: `${DIR}/local` }).hasItem(key, {});
  const onRemote = await fsDriver({ base: `${DIR}/remote` }).hasItem(key, {});
  rows.push([key, formatBytes(bytes), `${ms.toFixed(1)} ms`, status?.state ?? "-", String(meta?.tier), onLocal ? "yes" : "no", onRemote ? "yes" : "no"]);
}
printTable(["key", "size", "write", "state", "served from", "local copy", "remote copy"], rows);
const value = await cleanup.getItem("docs:settings.json");
log(`\nRead after transferAndDelete: docs:settings.json = ${JSON.stringify(value)}`);
await cleanup.dispose();

async function showTiers(s: QueuedStorage): Promise<void> {
  const metas = await Promise.all([...writes.keys()].map((key) => s.getMeta(key)));
  const urls = await Promise.all([...writes.keys()].map((key) => s.url(key)));
  [...writes.keys()].forEach((key, i) =>
    log(`  ${key.padEnd(20)} state=${String(metas[i]?.state).padEnd(12)} served from ${String(metas[i]?.tier).padEnd(6)}  url(key) = ${urls[i]}`),
  );
}
