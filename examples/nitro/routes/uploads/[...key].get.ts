// GET /uploads/<key>: the bytes, from the local copy until the transfer is done, then from S3.
export default defineEventHandler(async (event) => {
  const key = getRouterParam(event, "key")!.replaceAll("/", ":");
  const storage = useStorage("uploads");
  const meta = await storage.getMeta(key);
  const value = await storage.getItemRaw(key, { type: "stream" });
  if (value === null) throw createError({ statusCode: 404, statusMessage: "not found" });
  // getMeta of a queued storage tells where the value is: `state` (queued, remote, …) and `tier` (local or remote).
  setResponseHeader(event, "x-queued-state", String(meta.state ?? ""));
  setResponseHeader(event, "x-queued-tier", String(meta.tier ?? ""));
  return value;
});
