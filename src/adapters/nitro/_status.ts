// The status route of the Nitro module on nitropack 2 (h3 1, option `status: { route }`).
import { defineEventHandler, type EventHandler } from "h3";
import { _sendWebResponse, _toWebRequest } from "../_h3-node.ts";
import { _statusHandler } from "./_status-options.ts";

const statusEventHandler: EventHandler = defineEventHandler(async (event) => {
  return _sendWebResponse(event as never, await _statusHandler()(await _toWebRequest(event as never)));
});

export default statusEventHandler;
