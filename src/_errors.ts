/** Errors thrown by queued-storage carry the key they concern and whether retrying can help. */
export interface QueuedStorageError extends Error {
  key?: string;
  /** `false` when retrying cannot help (bad input, a task that broke its contract, a vanished local copy). */
  retryable?: boolean;
}

export function _error(
  message: string,
  options: { key?: string; cause?: unknown; retryable?: boolean } = {},
): QueuedStorageError {
  const error: QueuedStorageError = new Error(`[queued-storage] ${message}`, { cause: options.cause });
  if (options.key !== undefined) error.key = options.key;
  if (options.retryable !== undefined) error.retryable = options.retryable;
  return error;
}

/** The message of anything thrown, for state records and events. */
export function _messageOf(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return typeof cause === "string" ? cause : JSON.stringify(cause) ?? String(cause);
}
