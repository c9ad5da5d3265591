/** Errors thrown by queued-storage carry the key they concern and whether retrying can help. */
export interface QueuedStorageError extends Error {
  key?: string;
  /** `false` when retrying cannot help (bad input, a task that broke its contract, a vanished local copy). */
  retryable?: boolean;
}

/** What an error says besides its message. */
export interface _ErrorOptions {
  /** The part that failed (`qstash`, `upstash`, `nitro`, `h3`, `node-fetch`, `memoryQueue`, …); none for the core. */
  scope?: string;
  /** The key the error concerns. */
  key?: string;
  cause?: unknown;
  /** `false` when retrying cannot help. */
  retryable?: boolean;
  /** `TypeError` for a bad argument or option, as the platform's own APIs throw; `Error` otherwise. */
  type?: ErrorConstructor | TypeErrorConstructor;
}

/**
 * The one error of queued-storage: `[queued-storage] [<scope>] message` (`[queued-storage] message` for the core),
 * with `key`, `cause` and `retryable` when known. The scope is a bracket of its own, so that a search for
 * `[queued-storage]` finds every error of the library, scoped or not.
 */
export function _error(message: string, options: _ErrorOptions = {}): QueuedStorageError {
  const prefix = options.scope ? `[queued-storage] [${options.scope}]` : "[queued-storage]";
  return _made(`${prefix} ${message}`, options, _error);
}

/** The message of anything thrown, for state records and events. */
export function _messageOf(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return typeof cause === "string" ? cause : JSON.stringify(cause) ?? String(cause);
}

// createError and createRequiredError keep the messages of unstorage's driver utils (unstorage 2 no longer exports
// them): the drivers' errors read as unstorage's own drivers' do.

/**
 * A driver's error, `[unstorage] [<driver>] message` as unstorage's own drivers' read (our drivers are named
 * `queued-storage:s3` and `queued-storage:fs`); otherwise the same error as {@link _error}.
 */
export function createError(driver: string, message: string, options: Omit<_ErrorOptions, "scope"> = {}): QueuedStorageError {
  return _made(`[unstorage] [${driver}] ${message}`, options, createError);
}

/** The error for a missing required option (or several), naming it. */
export function createRequiredError(driver: string, name: string | string[]): QueuedStorageError {
  if (Array.isArray(name)) {
    return createError(driver, `Missing some of the required options ${name.map((n) => "`" + n + "`").join(", ")}`);
  }
  return createError(driver, `Missing required option \`${name}\`.`);
}

// --- internal ---

function _made(message: string, options: _ErrorOptions, caller: Function): QueuedStorageError {
  const error: QueuedStorageError = new (options.type ?? Error)(message, "cause" in options ? { cause: options.cause } : undefined);
  if (options.key !== undefined) error.key = options.key;
  if (options.retryable !== undefined) error.retryable = options.retryable;
  // Keep the stack pointing at the caller, where the V8 API exists.
  (Error as { captureStackTrace?: (target: object, ctor: Function) => void }).captureStackTrace?.(error, caller);
  return error;
}
