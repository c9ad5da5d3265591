import { createStorage } from "unstorage";
import memory from "unstorage/drivers/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import s3Driver from "../../src/drivers/s3/index.ts";
import { createQueuedStorage, memoryFlags, transfer, transferAndDelete, type FlagStore, type Task } from "../../src/index.ts";
import { startS3rver, type S3rverHandle } from "../support/s3rver.ts";

// Issue 9, the S3 path: a commit from an upload that lost its lease fails with 412 at the remote (conditional writes,
// enforced by the stand-in), even when its process was frozen and never noticed that its lease lapsed.
const LEASE = 300;
const STALL = 1500;
const MiB = 1024 * 1024;

let server: S3rverHandle;
beforeAll(async () => {
  server = await startS3rver({ bucket: "fencing" });
});
afterAll(async () => {
  await server?.stop();
});

type Commit = "PutObject" | "CompleteMultipartUpload";

/** A fetch that holds the first request of `commit` for `ms` before sending it, and records every answer's status. */
function stallingFetch(commit: Commit, ms: number) {
  const answers: Array<{ operation: string; status: number }> = [];
  let stalled = false;
  let started!: () => void;
  const startedLatch = new Promise<void>((resolve) => (started = resolve));
  const operationOf = (method: string, url: URL): string => {
    if (method === "PUT") return url.searchParams.has("uploadId") ? "UploadPart" : "PutObject";
    if (method === "POST") return url.searchParams.has("uploadId") ? "CompleteMultipartUpload" : "CreateMultipartUpload";
    return method === "HEAD" ? "HeadObject" : method;
  };
  const wrapped = (async (input: string | URL | Request, init?: RequestInit) => {
    const operation = operationOf(init?.method ?? "GET", new URL(String(input)));
    if (operation === commit && !stalled) {
      stalled = true;
      started();
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
    const response = await fetch(input, init);
    answers.push({ operation, status: response.status });
    return response;
  }) as typeof fetch;
  return { fetch: wrapped, answers, started: startedLatch };
}

/** A frozen process: its renewal timer "succeeds" without reaching the store, so it never learns its lease lapsed. */
const frozen = (flags: FlagStore): FlagStore => ({ ...flags, renew: async (key) => flags.get(key) });

async function scenario(task: Task, commit: Commit, mode: "renewing" | "frozen"): Promise<Array<{ operation: string; status: number }>> {
  const prefix = `${task.name}-${commit}-${mode}`;
  const stall = stallingFetch(commit, STALL);
  const connection = { endpoint: server.endpoint, bucket: server.bucket, region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, base: prefix };
  const sizes = commit === "PutObject" ? { multipartThreshold: 8 * MiB } : { partSize: 5 * MiB, multipartThreshold: 5 * MiB };
  const remote = s3Driver({ ...connection, ...sizes, retries: 0, fetch: stall.fetch });
  const local = memory();
  const flags = mode === "frozen" ? frozen(memoryFlags()) : memoryFlags();
  const storage = createQueuedStorage({ local, remote, task, flags, leaseMs: LEASE });
  const value = (tag: number): Uint8Array => new Uint8Array(commit === "PutObject" ? 1024 : 5 * MiB + 100).fill(tag);

  await storage.setItemRaw("k", value(1));
  await stall.started; // v1's commit is held for 5 leases
  await storage.setItemRaw("k", value(2));
  await storage.drain();
  await storage.sync();
  await storage.drain();

  const first = (read: unknown): number => (read as Uint8Array)[0]!;
  expect(first(await storage.getItemRaw("k"))).toBe(2);
  expect(await storage.status("k")).toMatchObject({ state: "remote" });
  // An independent reader of the bucket: the object is v2 and says so.
  const reader = s3Driver(connection);
  expect(first(await createStorage({ driver: reader }).getItemRaw("k"))).toBe(2);
  expect(await reader.getMeta!("k", {})).toMatchObject({ generation: String((await storage.status("k"))!.generation) });
  expect(await local.hasItem("k", {})).toBe(!task.deleteLocal);
  await storage.dispose();
  return stall.answers;
}

describe("a transfer that loses its lease (issue 9)", () => {
  it("aborts its upload through the task's signal before the commit: nothing reaches the bucket, the job is retried", async () => {
    const stall = stallingFetch("PutObject", STALL);
    const connection = { endpoint: server.endpoint, bucket: server.bucket, region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, base: "lost-lease" };
    const flags = memoryFlags();
    let taken = false;
    // The store answers that the lease is no longer ours (another instance took it over after a network partition).
    const losing: FlagStore = { ...flags, renew: async (key, token, ms) => (taken ? null : flags.renew(key, token, ms)) };
    const storage = createQueuedStorage({ local: memory(), remote: s3Driver({ ...connection, retries: 0, fetch: stall.fetch }), flags: losing, leaseMs: LEASE, delayed: true });
    await storage.setItem("k", "v1");
    const { generation } = (await storage.status("k"))!;
    const attempt = storage.handle({ key: "k", generation }).then(() => undefined, (error: unknown) => error);
    await stall.started;
    taken = true;
    expect(await attempt).toMatchObject({ retryable: true, message: expect.stringMatching(/lost its lease \(taken over or released\)/) });
    // The held PutObject was never sent: fetch saw an aborted signal.
    expect(stall.answers.filter((a) => a.operation === "PutObject")).toEqual([]);
    expect(await s3Driver(connection).hasItem("k", {})).toBe(false);
    expect(await storage.status("k")).toMatchObject({ state: "queued", error: expect.stringMatching(/lost its lease/) });
    taken = false;
    expect(await storage.handle({ key: "k", generation })).toBe("transferred");
    expect(await s3Driver(connection).getItem!("k", {})).toBe("v1");
    await storage.dispose();
  });
});

describe("fenced transfers on the S3 driver (issue 9)", () => {
  for (const task of [transfer, transferAndDelete]) {
    it(`${task.name}: a first PutObject stalled past the lease, lease renewed by its token: v2 waits for it, then wins`, async () => {
      const answers = await scenario(task, "PutObject", "renewing");
      // No second upload ran while the first held the key, so nothing had to be refused.
      expect(answers.filter((a) => a.status === 412)).toEqual([]);
    });
  }

  for (const commit of ["PutObject", "CompleteMultipartUpload"] as const) {
    for (const task of [transfer, transferAndDelete]) {
      it(`${task.name}: a ${commit} from a frozen process past its lease fails with 412; v2 stays`, async () => {
        const answers = await scenario(task, commit, "frozen");
        expect(answers.filter((a) => a.status === 412)).toEqual([{ operation: commit, status: 412 }]);
      }, 60_000);
    }
  }
});

describe("sync({ verify: true }) on the S3 driver (issue 9)", () => {
  it("finds remote keys whose object is not the recorded generation: re-uploads from the local copy, or fails naming both", async () => {
    const connection = { endpoint: server.endpoint, bucket: server.bucket, region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, base: "verify" };
    const direct = s3Driver(connection);
    const flags = memoryFlags();
    const kept = createQueuedStorage({ local: memory(), remote: s3Driver(connection), flags, prefix: "kept" });
    await kept.setItem("a", "a1");
    await kept.setItem("b", "b1");
    await kept.drain();
    expect(await kept.sync({ verify: true })).toEqual({ queued: 0, removed: 0, waiting: 0, dropped: 0, mismatched: 0 });
    // Object "a" is replaced behind our back (no generation, as a stale or foreign writer would leave it).
    await direct.setItem!("a", "foreign", {});
    expect(await kept.sync({ verify: true })).toEqual({ queued: 1, removed: 0, waiting: 0, dropped: 0, mismatched: 1 });
    await kept.drain();
    expect(await direct.getItem!("a", {})).toBe("a1");
    expect(await direct.getMeta!("a", {})).toMatchObject({ generation: String((await kept.status("a"))!.generation) });
    expect(await kept.sync()).toEqual({ queued: 0, removed: 0, waiting: 0, dropped: 0 }); // without verify: not looked at

    const failed: string[] = [];
    const moved = createQueuedStorage({ local: memory(), remote: s3Driver(connection), flags, task: transferAndDelete, leaseMs: LEASE, onFailed: (e) => void failed.push(e.error) });
    await moved.setItem("c", "c1");
    await moved.drain();
    const { generation } = (await moved.status("c"))!;
    await direct.setItem!("c", "foreign", { meta: { generation: "42" } });
    expect((await moved.sync({ verify: true })).mismatched).toBe(1);
    await moved.drain();
    expect(await moved.status("c")).toMatchObject({ state: "failed" });
    expect(failed).toEqual([expect.stringContaining(`the local copy of generation ${generation} is missing and the remote holds generation 42`)]);
    await Promise.all([kept.dispose(), moved.dispose()]);
  });
});
