import memoryDriver from "unstorage/drivers/memory";
import { createQueuedStorage, transferAndDelete } from "../../../src/index.ts";
import { equal, equalBytes, ok, toBytes } from "./assert.ts";
import { bytesOf, streamOf, textIn } from "./helpers.ts";
import type { SuiteCase } from "./suite.ts";

export const coreCases: SuiteCase[] = [
  {
    name: "core: a write is read back at once, transferred by the in-process queue, then read from the remote",
    async run() {
      const remote = memoryDriver();
      const storage = createQueuedStorage({ local: memoryDriver(), remote, retryDelay: 10 });
      await storage.setItem("docs:a.txt", "hello");
      equal(await storage.getItem("docs:a.txt"), "hello", "read right after the write");
      const early = await storage.status("docs:a.txt");
      ok(early && ["queued", "transferring", "remote"].includes(early.state), `state after write: ${early?.state}`);
      await storage.drain();
      equal((await storage.status("docs:a.txt"))?.state, "remote", "state after drain");
      equal(await textIn(remote, "docs:a.txt"), "hello", "the remote driver holds the value");
      equal(await storage.getItem("docs:a.txt"), "hello", "read after the transfer");
      equal(await storage.getKeys("docs"), ["docs:a.txt"], "keys of both tiers, without duplicates");
      await storage.dispose();
    },
  },
  {
    name: "core: stream, Blob and ArrayBuffer values are stored, transferred and read back as streams",
    async run() {
      const storage = createQueuedStorage({ local: memoryDriver(), remote: memoryDriver(), retryDelay: 10 });
      const data = bytesOf(300_000, 7);
      await storage.setItemRaw("media:stream.bin", streamOf(data, 32 * 1024));
      await storage.setItemRaw("media:blob.bin", new Blob([data.slice(0, 1000)]));
      await storage.setItemRaw("media:buffer.bin", data.slice(0, 500).buffer);
      await storage.drain();
      const stream = await storage.getItemRaw("media:stream.bin", { type: "stream" });
      ok(stream instanceof ReadableStream, "getItemRaw(key, { type: 'stream' }) returns a ReadableStream");
      equalBytes(await toBytes(stream), data, "stream value after the transfer");
      equalBytes(await toBytes(await storage.getItemRaw("media:blob.bin")), data.slice(0, 1000), "Blob value");
      equalBytes(await toBytes(await storage.getItemRaw("media:buffer.bin")), data.slice(0, 500), "ArrayBuffer value");
      equal((await storage.status("media:stream.bin"))?.state, "remote", "stream value state");
      await storage.dispose();
    },
  },
  {
    name: "core: transferAndDelete leaves only the remote copy and reads still answer",
    async run() {
      const local = memoryDriver();
      const remote = memoryDriver();
      const storage = createQueuedStorage({ local, remote, task: transferAndDelete, retryDelay: 10 });
      const data = bytesOf(10_000, 3);
      await storage.setItemRaw("avatars:1.png", data);
      await storage.drain();
      equal((await storage.status("avatars:1.png"))?.state, "remote", "state after drain");
      equal(await local.hasItem("avatars:1.png", {}), false, "the local copy is gone");
      equalBytes(await toBytes(await remote.getItemRaw!("avatars:1.png", {})), data, "remote bytes");
      equalBytes(await toBytes(await storage.getItemRaw("avatars:1.png")), data, "read served by the remote");
      await storage.dispose();
    },
  },
  {
    name: "core: a delayed storage queues nothing until transfer(key)",
    async run() {
      const remote = memoryDriver();
      const storage = createQueuedStorage({ local: memoryDriver(), remote, delayed: true, retryDelay: 10 });
      await storage.setItem("later", "v1");
      await storage.drain();
      equal((await storage.status("later"))?.state, "local", "state before transfer(key)");
      equal(await remote.hasItem("later", {}), false, "nothing on the remote yet");
      equal((await storage.transfer("later"))?.state, "queued", "transfer(key) queues it");
      await storage.drain();
      equal((await storage.status("later"))?.state, "remote", "state after the transfer");
      equal(await textIn(remote, "later"), "v1", "remote value");
      await storage.dispose();
    },
  },
  {
    name: "core: remove deletes the key from both tiers and forgets its state",
    async run() {
      const local = memoryDriver();
      const remote = memoryDriver();
      const storage = createQueuedStorage({ local, remote, retryDelay: 10 });
      await storage.setItem("gone", "soon");
      await storage.drain();
      await storage.removeItem("gone");
      equal(await storage.getItem("gone"), null, "read after remove");
      equal(await local.hasItem("gone", {}), false, "local copy removed");
      equal(await remote.hasItem("gone", {}), false, "remote copy removed");
      equal(await storage.status("gone"), null, "no state left");
      await storage.dispose();
    },
  },
];
