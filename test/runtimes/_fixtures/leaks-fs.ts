// Guard fixture: an edge entry that reaches node:* through a chain (fixture → fs driver → node:fs/promises).
export { default as fsDriver } from "../../../src/drivers/fs/index.ts";
