import type { QueuedStorageControls } from "../types.ts";

/** What a status-page adapter wraps: a queued storage (or its controls), or a ready `createStatusHandler(...)`. */
export type StatusTarget =
  | Pick<QueuedStorageControls, "stats" | "list" | "retry" | "sync" | "status" | "url">
  | ((request: Request) => Promise<Response>);
