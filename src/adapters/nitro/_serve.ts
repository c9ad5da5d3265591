// The file route of the Nitro module on Nitro 2 (h3 1, option `serve: { route }`): GET/HEAD of keys from the tier that
// holds them. The h3 adapter converts, reading the Node request and writing the response with backpressure.
import { createFileHandler } from "../../serve/handler.ts";
import { defineFileHandler, type H3FileHandler } from "../h3.ts";
import { _serveOptions, _useControls } from "./_runtime.ts";

let handler: ((request: Request) => Promise<Response>) | undefined;

// Created on the first request: runtime config (and env) is complete by then.
const serveEventHandler: H3FileHandler = defineFileHandler((request) =>
  (handler ??= createFileHandler(_useControls(), _serveOptions()))(request),
);

export default serveEventHandler;
