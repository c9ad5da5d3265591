// PUT /uploads/<key>: the body streams to the local tier; the transfer to S3 is queued on QStash.
export default defineEventHandler(async (event) => {
  const key = getRouterParam(event, "key")!.replaceAll("/", ":");
  const body = getRequestWebStream(event);
  if (!body) throw createError({ statusCode: 400, statusMessage: "empty body" });
  await useStorage("uploads").setItemRaw(key, body);
  setResponseStatus(event, 201);
  return { key };
});
