// The server the hostile-input suite attacks, the same on every runtime: a queued storage with one seeded key
// (delayed, so nothing moves unless a job is run), its webhook under /api/transfer and a health route that reports
// what the state store says about the seeded key and how often the webhook reached the storage.
import { Hono } from "hono";
import memory from "unstorage/drivers/memory";
import { transferRoute } from "../../src/adapters/hono.ts";
import { createQueuedStorage } from "../../src/index.ts";
import { createTransferHandler, type TransferHandlerOptions } from "../../src/queues/qstash.ts";
import type { TransferJob } from "../../src/contracts.ts";
import type { QueuedStorageControls } from "../../src/types.ts";

export const CURRENT_KEY = "sig_hostile-current-key";
export const NEXT_KEY = "sig_hostile-next-key";
export const SEEDED_KEY = "seeded:photo.jpg";
export const HANDLER_OPTIONS: TransferHandlerOptions = {
  currentSigningKey: CURRENT_KEY,
  nextSigningKey: NEXT_KEY,
  maxBodyBytes: 4096,
  bodyTimeoutMs: 1000,
};

/** What GET /health answers. */
export interface Health {
  ok: true;
  /** Calls that reached the storage through the webhook (`handle` or `fail`). */
  calls: number;
  /** The state store's record of the seeded key. */
  status: unknown;
}

export interface HostileApp {
  /** The webhook's target: the storage's controls, counting calls. */
  target: Pick<QueuedStorageControls, "handle" | "fail">;
  health(): Promise<Health>;
  /** The Hono app: GET /health, POST /api/transfer. */
  hono: Hono;
  /** The bare web handler with the same two routes, for servers that take a fetch function. */
  fetch(request: Request): Promise<Response>;
}

export async function createHostileApp(): Promise<HostileApp> {
  const storage = createQueuedStorage({ local: memory(), remote: memory(), delayed: true });
  await storage.setItem(SEEDED_KEY, "local bytes");
  let calls = 0;
  const target = {
    handle: (job: TransferJob) => (calls++, storage.handle(job)),
    fail: (job: TransferJob, reason: unknown) => (calls++, storage.fail(job, reason)),
  };
  const health = async (): Promise<Health> => ({ ok: true, calls, status: await storage.status(SEEDED_KEY) });
  const hono = new Hono();
  hono.get("/health", async (c) => c.json(await health()));
  hono.post("/api/transfer", transferRoute(target, HANDLER_OPTIONS));
  const webhook = createTransferHandler(target, HANDLER_OPTIONS);
  const fetch = async (request: Request): Promise<Response> =>
    new URL(request.url).pathname === "/health" ? Response.json(await health()) : webhook(request);
  return { target, health, hono, fetch };
}
