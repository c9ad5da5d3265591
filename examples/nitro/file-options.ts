// The file route's options that are code (`serve.options` in nitro.config.ts): who may read and write /files/<key>,
// and what may be uploaded there. Bundled into the server like a route; createFileHandler's option names.
import { defineFileHandlerOptions } from "queued-storage/nitro";
import { useRuntimeConfig } from "nitropack/runtime";

export default defineFileHandlerOptions({
  // Reads and writes need `Authorization: Bearer <NITRO_FILES_TOKEN>`: no header answers 401 with a challenge (a
  // Response is sent as is), a wrong one 403. Without a token set, nobody gets in.
  authorize: (request) => {
    const header = request.headers.get("authorization");
    if (!header) return new Response("Unauthorized", { status: 401, headers: { "www-authenticate": 'Bearer realm="files"' } });
    const token = String(useRuntimeConfig().filesToken ?? "");
    return token !== "" && header === `Bearer ${token}`;
  },
  // PUT /files/<key> streams the body into useStorage("uploads"): images only (by Content-Type and by the key's
  // extension), at most 5 MiB.
  upload: { maxBytes: 5 * 1024 * 1024, types: ["image/*"] },
  // Wins over serve.cacheControl of the runtime config: answers depend on the token, so no shared cache may keep them.
  cacheControl: "private, no-cache",
});
