// The file route of the Nitro module on Nitro 3 (h3 2, option `serve: { route }`): the event carries the web Request
// itself, so nothing from h3 is imported (or bundled) here.
import { createFileHandler } from "../../serve/handler.ts";
import { _serveOptions, _useControls } from "./_runtime.ts";

let handler: ((request: Request) => Promise<Response>) | undefined;

/** h3 2 calls route handlers with `{ req }`; the Request is the framework's, handed on untouched. */
export default function serveEventHandler(event: { req: Request }): Promise<Response> {
  // Created on the first request: runtime config (and env) is complete by then.
  handler ??= createFileHandler(_useControls(), _serveOptions());
  return handler(event.req);
}
