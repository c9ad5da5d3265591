import { afterEach, describe, expect, it, vi } from "vitest";
import memory from "unstorage/drivers/memory";
import { _mountQueuedStorage, type _NitroFactories } from "../../src/adapters/nitro/_runtime.ts";
import { _defaultRuntimeConfig } from "../../src/adapters/nitro/_config.ts";
import { memoryFlags } from "../../src/flags/memory.ts";
import type { TransferQueue } from "../../src/contracts.ts";

// The module's runtime without credentials: the embedded default with one warning, or with `production: true` an error
// naming what is missing. (test/adapters/nitro.test.ts runs the built examples without them.)

const SERVICE_ENV = ["QSTASH_TOKEN", "QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"];

function mount(factories: Partial<_NitroFactories>, env: Record<string, string> = {}) {
  for (const name of SERVICE_ENV) vi.stubEnv(name, env[name] ?? "");
  const config = { ..._defaultRuntimeConfig(), queue: "qstash", flags: "upstash", remote: { driver: "queued-storage/drivers/s3", endpoint: "", bucket: "" } };
  const mounted: unknown[] = [];
  const used = { queue: 0, flags: 0, remote: 0, fallback: 0 };
  _mountQueuedStorage(
    {
      local: () => memory(),
      remote: () => (used.remote++, memory()),
      qstashQueue: () => (used.queue++, {} as TransferQueue),
      upstashFlags: () => (used.flags++, memoryFlags()),
      fallbackRemote: () => (used.fallback++, memory()),
      ...factories,
    },
    { useRuntimeConfig: () => ({ queuedStorage: config }), useStorage: () => ({ mount: (_base: string, driver: unknown) => void mounted.push(driver) }) as never },
  );
  return { used, mounted };
}

describe("adapters/nitro without service credentials", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it("falls back to the in-process queue and state and an fs remote, with one warning naming every missing variable", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { used, mounted } = mount({});
    expect(mounted).toHaveLength(1);
    expect(used).toEqual({ queue: 0, flags: 0, remote: 0, fallback: 1 });
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0]![0]);
    for (const name of [
      "QSTASH_TOKEN", "NITRO_QUEUED_STORAGE_QSTASH_URL", "QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY",
      "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "NITRO_QUEUED_STORAGE_REMOTE_ENDPOINT", "NITRO_QUEUED_STORAGE_REMOTE_BUCKET",
    ]) expect(message).toContain(name);
  });

  it("uses Upstash when its variables are set and falls back only for what is missing", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { used } = mount({}, { UPSTASH_REDIS_REST_URL: "https://example.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t" });
    expect(used).toEqual({ queue: 0, flags: 1, remote: 0, fallback: 1 });
    expect(String(warn.mock.calls[0]![0])).not.toContain("UPSTASH");
  });

  it("production: true makes missing credentials a startup error naming them", () => {
    expect(() => mount({ production: true, fallbackRemote: undefined })).toThrow(
      /production: true, and these are not set: QSTASH_TOKEN, NITRO_QUEUED_STORAGE_QSTASH_URL, .*UPSTASH_REDIS_REST_TOKEN, NITRO_QUEUED_STORAGE_REMOTE_ENDPOINT/,
    );
  });
});
