import { afterAll, beforeAll, describe, expect } from "vitest";
import { upstashFlags } from "../../src/flags/upstash.ts";
import { startQStash, type QStashStandIn } from "../support/qstash-server.ts";
import { requireRedis } from "../support/redis.ts";
import { standInS3, startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { startUpstashProxy, type UpstashProxy } from "../support/upstash-proxy.ts";
import { hostileCases, type HostileTarget } from "./_hostile-cases.ts";
import { buildNitroExample, nitroEnv, startNitroServer, type BuiltNitroApp, type RunningServer } from "./_nitro-app.ts";

// The same attacks against the Nitro module's webhook route in the built examples/nitro (nitropack 2) and
// examples/nitro3 (nitro 3) apps (preset node-server, run from .output), with their real state store: Upstash (the
// REST proxy over redis-server), read from here.
const ROUTE = "/_queued-storage/transfer";
const KEY = "seeded:photo.jpg";

describe.each(["nitropack 2", "nitro 3"] as const)("hostile input: the %s module's webhook in the built app", (major) => {
  let app: BuiltNitroApp | undefined;
  let server: RunningServer | undefined;
  let s3: S3rverHandle;
  let upstash: UpstashProxy;
  let qstash: QStashStandIn;
  const prefix = `hostile-nitro-${major.replace(" ", "")}-${Date.now()}`;

  beforeAll(async () => {
    await requireRedis();
    [s3, upstash, qstash] = await Promise.all([startS3rver({ bucket: "hostile-uploads" }), startUpstashProxy(), startQStash()]);
    app = await buildNitroExample(major);
    server = await startNitroServer(app.dir, (origin) => ({
      ...nitroEnv(app!.dir, origin, { s3, qstash, upstash }, prefix),
    }));
    qstash.pause(); // the real delivery never comes: only our requests reach the webhook
    const upload = await fetch(`${server.origin}/uploads/seeded/photo.jpg`, { method: "PUT", body: "local bytes" });
    if (upload.status !== 201) throw new Error(`seeding failed: ${upload.status} ${await upload.text()}`);
  }, 240_000);

  afterAll(async () => {
    // Nitro traps uncaught errors and logs them instead of dying: the log must have none.
    const output = server?.output() ?? "";
    await server?.stop();
    await app?.remove();
    await Promise.all([s3?.stop(), upstash?.stop(), qstash?.stop()]);
    expect(output, "the Nitro server logged an error").not.toMatch(/uncaught|unhandled|ERR_INVALID_STATE/i);
  });

  const flags = () => upstashFlags({ url: upstash.url, token: upstash.token, prefix });
  const state = async (): Promise<{ calls: number; status: unknown }> => {
    // The server must answer at all (any status from its root), then the state store and the remote are read.
    await fetch(`${server!.origin}/`, { signal: AbortSignal.timeout(20_000) });
    const status = await flags().get(KEY);
    // "Calls that reached the storage": the only trace a transfer leaves outside the server is the remote object.
    const calls = (await standInS3(s3).hasItem(KEY, {})) ? 1 : 0;
    return { calls, status };
  };
  hostileCases(
    (): HostileTarget => ({
      port: Number(new URL(server!.origin).port),
      path: ROUTE,
      subject: `${server!.origin}${ROUTE}`,
      signingKey: qstash.currentSigningKey,
      bodyTimeoutMs: 10_000, // the handler's default: the module passes no bodyTimeoutMs
      job: async () => JSON.stringify({ key: KEY, generation: (await flags().get(KEY))!.generation }),
      state,
      output: () => server!.output(),
    }),
  );
});
