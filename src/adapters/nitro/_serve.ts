// The file route of the Nitro module (option `serve: { route }`): GET/HEAD of keys from the tier that holds them.
import { defineEventHandler, type EventHandler } from "h3";
import { _sendWebResponse, _toWebRequest } from "../_h3-node.ts";
import { createFileHandler } from "../../serve/handler.ts";
import { _serveOptions, _useControls } from "./_runtime.ts";

let handler: ((request: Request) => Promise<Response>) | undefined;

const serveEventHandler: EventHandler = defineEventHandler(async (event) => {
  // Created on the first request: runtime config (and env) is complete by then.
  handler ??= createFileHandler(_useControls(), _serveOptions());
  return _sendWebResponse(event as never, await handler(await _toWebRequest(event as never)));
});

export default serveEventHandler;
