import memoryDriver from "unstorage/drivers/memory";
import { createQueuedStorage } from "../../../src/index.ts";
import { createTransferHandler } from "../../../src/queues/qstash.ts";
import { upstashFlags } from "../../../src/flags/upstash.ts";
import { equal, equalBytes, toBytes } from "./assert.ts";
import { suiteS3Driver } from "./cases-s3.ts";
import { bytesOf, captureQueue, streamOf } from "./helpers.ts";
import { randomSigningKey, signQStash } from "./jwt.ts";
import type { SuiteCase, SuiteEnv } from "./suite.ts";

const flagsFor = (env: SuiteEnv, name: string): ReturnType<typeof upstashFlags> =>
  upstashFlags({ url: env.upstash.url, token: env.upstash.token, prefix: `qs-suite-${env.runId}-${name}` });

export const upstashCases: SuiteCase[] = [
  {
    name: "upstash: transfer state kept in Redis through the REST API is shared by two storage instances",
    async run(env) {
      const remote = memoryDriver();
      const local = memoryDriver();
      const writer = createQueuedStorage({ local, remote, flags: flagsFor(env, "shared"), delayed: true });
      const reader = createQueuedStorage({ local, remote, flags: flagsFor(env, "shared"), delayed: true });
      await writer.setItem("report.csv", "a,b");
      const first = await reader.status("report.csv");
      equal(first?.state, "local", "the other instance sees the write");
      equal(await writer.transferNow("report.csv"), "transferred", "transferNow outcome");
      const after = await reader.status("report.csv");
      equal(after?.state, "remote", "the other instance sees the transfer");
      equal(after?.generation, first?.generation, "same generation");
      await writer.setItem("report.csv", "a,b,c");
      const bumped = await reader.status("report.csv");
      equal(bumped?.state, "local", "an overwrite is local again");
      equal(bumped!.generation > first!.generation, true, "an overwrite bumps the generation");
      await writer.clear();
      equal(await reader.status("report.csv"), null, "clear() removed the state");
      await Promise.all([writer.dispose(), reader.dispose()]);
    },
  },
  {
    name: "end to end: local write, signed webhook delivery, stream to s3rver, state in Upstash, read from the remote",
    async run(env) {
      const queue = captureQueue();
      const local = memoryDriver();
      const remote = suiteS3Driver(env, "e2e");
      const flags = flagsFor(env, "e2e");
      const storage = createQueuedStorage({ local, remote, flags, queue });
      const keys = { current: randomSigningKey(), next: randomSigningKey() };
      const url = "https://app.example.com/_queued-storage/transfer";
      const handler = createTransferHandler(storage, { currentSigningKey: keys.current, nextSigningKey: keys.next, url });
      const data = bytesOf(700_000, 5);
      await storage.setItemRaw("uploads:photo.jpg", streamOf(data));
      equal((await storage.status("uploads:photo.jpg"))?.state, "queued", "queued after the write");
      const body = JSON.stringify(queue.jobs[0]);
      const request = new Request(url, {
        method: "POST",
        headers: { "upstash-signature": await signQStash(keys.current, url, body) },
        body,
      });
      const response = await handler(request);
      equal(response.status, 200, `webhook status (${await response.clone().text()})`);
      equal((await storage.status("uploads:photo.jpg"))?.state, "remote", "remote after the delivery");
      equalBytes(await toBytes(await remote.getItemRaw!("uploads:photo.jpg", {})), data, "bytes on s3rver");
      await local.clear!("", {});
      const read = await storage.getItemRaw("uploads:photo.jpg", { type: "stream" });
      equalBytes(await toBytes(read), data, "read served by s3 once the local copy is gone");
      await storage.clear();
      await storage.dispose();
    },
  },
];
