// The webhook route of the Nitro module on Nitro 3 (h3 2): the event carries the web Request itself, so nothing from
// h3 is imported (or bundled) here.
import { createTransferHandler } from "../../queues/qstash.ts";
import { _handlerOptions, _useControls } from "./_runtime.ts";

let handler: ((request: Request) => Promise<Response>) | undefined;

/** h3 2 calls route handlers with `{ req }`; the Request is the framework's, handed on untouched. */
export default function transferEventHandler(event: { req: Request }): Promise<Response> {
  // Created on the first delivery: runtime config (and env) is complete by then.
  handler ??= createTransferHandler(_useControls(), _handlerOptions());
  return handler(event.req);
}
