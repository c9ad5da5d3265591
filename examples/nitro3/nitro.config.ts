import { defineNitroConfig } from "nitro/config";

// https://nitro.build/config — the same module and runtime config as examples/nitro (nitropack 2), on Nitro 3.
export default defineNitroConfig({
  compatibilityDate: "2025-07-01",
  modules: ["queued-storage/nitro"],
  runtimeConfig: {
    // Every value can be set from env at run time: NITRO_QUEUED_STORAGE_<PATH>, e.g. NITRO_QUEUED_STORAGE_REMOTE_BUCKET.
    // Driver names and the `queue`/`flags` kinds are read at build time: they decide what gets bundled.
    queuedStorage: {
      base: "uploads",
      local: { driver: "queued-storage/drivers/fs", base: "./.data/uploads" },
      remote: {
        driver: "queued-storage/drivers/s3",
        endpoint: "",
        bucket: "",
        region: "auto",
        accessKeyId: "",
        secretAccessKey: "",
      },
      queue: "qstash",
      flags: "upstash",
      // Public URL of the webhook route the module registers (/_queued-storage/transfer).
      qstash: { url: "" },
      // Serve the stored files under /files (GET/HEAD, ETag, ranges), from whichever tier holds them.
      serve: { route: "/files" },
    },
  },
});
