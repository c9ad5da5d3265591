// The status route of the Nitro module on Nitro 3 (h3 2, option `status: { route }`): the event carries the web Request.
import { _statusHandler } from "./_status-options.ts";

/** h3 2 calls route handlers with `{ req }`; the Request is the framework's, handed on untouched. */
export default function statusEventHandler(event: { req: Request }): Promise<Response> {
  return _statusHandler()(event.req);
}
