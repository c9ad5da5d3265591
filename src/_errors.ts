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

// createError and createRequiredError are vendored from unstorage's driver utils (unstorage 2 no longer exports them),
// with the same messages and behaviour: the drivers' errors read as unstorage's own drivers' do.

/** An `Error` named after the driver: `[unstorage] [<driver>] <message>`. */
export function createError(driver: string, message: string, options?: ErrorOptions): Error {
  const error = new Error(`[unstorage] [${driver}] ${message}`, options);
  // Keep the stack pointing at the caller, where the V8 API exists.
  (Error as { captureStackTrace?: (target: object, ctor: Function) => void }).captureStackTrace?.(error, createError);
  return error;
}

/** The error for a missing required option (or several), naming it. */
export function createRequiredError(driver: string, name: string | string[]): Error {
  if (Array.isArray(name)) {
    return createError(driver, `Missing some of the required options ${name.map((n) => "`" + n + "`").join(", ")}`);
  }
  return createError(driver, `Missing required option \`${name}\`.`);
}
