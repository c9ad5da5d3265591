// GET /uploads/<key>: the bytes, from the local copy until the transfer is done, then from S3.
import { defineHandler, getRouterParam, HTTPError } from "nitro/h3";
import { useStorage } from "nitro/runtime";

export default defineHandler(async (event) => {
  const key = getRouterParam(event, "key")!.replaceAll("/", ":");
  const storage = useStorage("uploads");
  const meta = await storage.getMeta(key);
  const value = await storage.getItemRaw(key, { type: "stream" });
  if (value === null) throw new HTTPError({ status: 404, statusText: "not found" });
  // getMeta of a queued storage tells where the value is: `state` (queued, remote, …) and `tier` (local or remote).
  return new Response(value as ReadableStream<Uint8Array>, {
    headers: { "x-queued-state": String(meta.state ?? ""), "x-queued-tier": String(meta.tier ?? "") },
  });
});
