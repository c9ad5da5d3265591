import { loadConfig } from "c12";
import { createQueuedStorage } from "../core/storage.ts";
import type { QueuedStorageControls, QueuedStorageOptions } from "../types.ts";

/** What the commands use: the controls, and a way to let go of the storage when done. */
export interface _CliStorage {
  controls: QueuedStorageControls;
  /** Where the config came from, for messages. */
  file: string;
  close(): Promise<void>;
}

/**
 * Load `queued-storage.config.{ts,mts,js,mjs,…}` (or `--config`) with c12: its default export is the storage's options
 * (a storage is created from them) or a storage made by the config itself (`createQueuedStorage(...)` or
 * `queuedDriver(...).getInstance()`). A `.env` next to it is loaded first, so secrets can stay there.
 */
export async function _loadStorage(options: { cwd?: string; config?: string }): Promise<_CliStorage> {
  const { config, configFile } = await loadConfig<Record<string, unknown>>({
    name: "queued-storage",
    cwd: options.cwd ?? process.cwd(),
    ...(options.config && { configFile: options.config }),
    rcFile: false,
    globalRc: false,
    packageJson: false,
    dotenv: true,
    giget: false,
    extend: false,
    configFileRequired: true,
    // The default export as it is: a storage must keep its identity (c12 would otherwise merge it into a copy).
    merger: (...sources) => sources.find((source) => source && Object.keys(source).length > 0) ?? {},
  });
  const file = configFile ?? "queued-storage.config";
  const value = config as unknown;
  if (_isControls(value)) {
    const storage = value as QueuedStorageControls & { dispose?: () => Promise<void> };
    return { controls: storage, file, close: async () => void (await storage.dispose?.()) };
  }
  if (!value || typeof value !== "object" || !("local" in value) || !("remote" in value)) {
    throw new Error(
      `[queued-storage] ${file}: the default export must be the options of createQueuedStorage ({ local, remote, … }) or a queued storage`,
    );
  }
  const storage = createQueuedStorage(value as QueuedStorageOptions);
  return { controls: storage, file, close: () => storage.dispose() };
}

function _isControls(value: unknown): boolean {
  const candidate = value as Partial<QueuedStorageControls> | null;
  return !!candidate && typeof candidate.stats === "function" && typeof candidate.status === "function";
}
