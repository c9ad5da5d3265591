// The webhook route of the Nitro module on Nitro 2 (h3 1): QStash POSTs transfer jobs here. The h3 adapter converts.
import { createTransferHandler } from "../../queues/qstash.ts";
import { defineTransferHandler, type H3TransferHandler } from "../h3.ts";
import { _handlerOptions, _useControls } from "./_runtime.ts";

let handler: ((request: Request) => Promise<Response>) | undefined;

// Created on the first delivery: runtime config (and env) is complete by then.
const transferEventHandler: H3TransferHandler = defineTransferHandler((request) =>
  (handler ??= createTransferHandler(_useControls(), _handlerOptions()))(request),
);

export default transferEventHandler;
