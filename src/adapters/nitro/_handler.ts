// The webhook route of the Nitro module: QStash POSTs transfer jobs here.
import { defineEventHandler, toWebRequest, type EventHandler } from "h3";
import { createTransferHandler } from "../../queues/qstash.ts";
import { _handlerOptions, _useControls } from "./_runtime.ts";

let handler: ((request: Request) => Promise<Response>) | undefined;

const transferEventHandler: EventHandler = defineEventHandler((event) => {
  // Created on the first delivery: runtime config (and env) is complete by then.
  handler ??= createTransferHandler(_useControls(), _handlerOptions());
  return handler(toWebRequest(event));
});

export default transferEventHandler;
