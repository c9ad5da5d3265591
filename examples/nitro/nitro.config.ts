// https://nitro.build/config — `defineNitroConfig` is provided by nitropack when it loads this file.
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
        // node-server preset: send over node:http instead of undici's fetch (less CPU per request; see docs/3.drivers.md).
        fetch: "node",
      },
      queue: "qstash",
      flags: "upstash",
      // Public URL of the webhook route the module registers (/_queued-storage/transfer).
      qstash: { url: "" },
      // GET/HEAD /files/<key>: ETag, 304 and ranges, from the tier that holds the key (createFileHandler); with
      // `options`, a module of code options read at build time: here authorization and PUT uploads (file-options.ts).
      serve: { route: "/files", options: "./file-options.ts" },
    },
    // The bearer token file-options.ts asks for: set NITRO_FILES_TOKEN at run time.
    filesToken: "",
  },
});
