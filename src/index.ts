// "queued-storage": the edge-safe core. Every export is named here; unstorage's own types (Driver, Storage) come from
// unstorage itself.
export { createQueuedStorage, queuedDriver } from "./core/storage.ts";
export type { QueuedStorage } from "./core/storage.ts";
export { memoryQueue } from "./queues/memory.ts";
export type { MemoryQueueOptions } from "./queues/memory.ts";
export { memoryFlags } from "./flags/memory.ts";
export { storageFlags } from "./flags/storage.ts";
export type { StorageFlagsOptions } from "./flags/storage.ts";
export { defineTask, transfer, transferAndDelete } from "./tasks.ts";
export { createFileHandler } from "./serve/handler.ts";
export type { FileHandler, FileHandlerOptions, FileOperation, FileRequestContext } from "./serve/handler.ts";
export type { QueuedStorageError } from "./_errors.ts";
export type {
  DriverSpec,
  FailedEvent,
  ListedStatus,
  ListPage,
  QueuedStorageControls,
  QueuedStorageOptions,
  RetryQuery,
  SyncOptions,
  SyncReport,
  TransferredEvent,
  TransferStatus,
  UrlContext,
  UrlOption,
  UrlOptions,
} from "./types.ts";
export type {
  ClaimResult,
  EnqueueOptions,
  FlagPage,
  FlagRecord,
  FlagStore,
  ListQuery,
  SettleResult,
  Task,
  TaskContext,
  TransferConsumer,
  TransferCounts,
  TransferJob,
  TransferOutcome,
  TransferQueue,
  TransferState,
  TransferStats,
  ValueKind,
} from "./contracts.ts";
export { createStatusHandler } from "./serve/status.ts";
export type { StatusHandlerOptions, StatusOperation } from "./serve/status.ts";
