import { signQStashJwt } from "./_qstash-jwt.ts";
import { failureCallbackMessage } from "./_qstash-failure.ts";
import { retryAfterMs, type QStashMessage } from "./_qstash-parse.ts";

/** One delivery attempt: `status` 0 when the destination could not be reached. */
export interface QStashDelivery {
  messageId: string;
  kind: QStashMessage["kind"];
  url: string;
  status: number;
  retried: number;
  /** The request body sent (UTF-8). */
  body: string;
  /** The request headers sent, lower-cased. */
  headers: Record<string, string>;
  responseBody: string;
  error?: string;
}

/** A message whose retries ran out, or that the destination refused for good (489). */
export interface QStashDlqEntry {
  dlqId: string;
  messageId: string;
  url: string;
  status: number;
  responseBody: string;
  retried: number;
  maxRetries: number;
  sourceBody: string;
  failureCallback?: string;
}

export interface DelivererOptions {
  signingKey: () => string;
  retryBackoff: (retried: number) => number;
  deliveries: QStashDelivery[];
  dlq: QStashDlqEntry[];
}

export interface Deliverer {
  schedule(message: QStashMessage, at: number): void;
  /** The message if it is still waiting, held or being delivered (what `GET /v2/messages/:id` finds). */
  pending(messageId: string): QStashMessage | undefined;
  flush(): void;
  idle(): Promise<void>;
  pause(): void;
  resume(): void;
  stop(): void;
}

/**
 * The scheduler of the stand-in: delivers each message when due, signs every attempt, retries with a fast
 * configurable backoff (honouring `Retry-After`), dead-letters and calls the failure callback (A3).
 */
export function createDeliverer(options: DelivererOptions): Deliverer {
  const timers = new Map<string, { timer: ReturnType<typeof setTimeout>; message: QStashMessage }>();
  const held: QStashMessage[] = [];
  const inFlight = new Map<string, QStashMessage>();
  const aborts = new Set<AbortController>();
  let idleWaiters: Array<() => void> = [];
  let paused = false;
  let stopped = false;

  function checkIdle(): void {
    if (timers.size > 0 || held.length > 0 || inFlight.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  function schedule(message: QStashMessage, at: number): void {
    if (stopped) return;
    const timer = setTimeout(() => due(message), Math.max(0, at - Date.now()));
    timers.set(message.messageId, { timer, message });
  }

  function due(message: QStashMessage): void {
    timers.delete(message.messageId);
    if (paused) held.push(message);
    else dispatch(message);
  }

  function dispatch(message: QStashMessage): void {
    if (stopped) return;
    inFlight.set(message.messageId, message);
    void attempt(message).finally(() => {
      inFlight.delete(message.messageId);
      checkIdle();
    });
  }

  async function attempt(message: QStashMessage): Promise<void> {
    const headers: Record<string, string> = {
      ...message.forward,
      "upstash-signature": signQStashJwt({ key: options.signingKey(), url: message.destination, body: message.body }),
      "upstash-message-id": message.messageId,
      "upstash-retried": String(message.retried),
      "user-agent": "Upstash-QStash",
    };
    const abort = new AbortController();
    aborts.add(abort);
    const timeout = message.timeoutMs ? setTimeout(() => abort.abort(), message.timeoutMs) : undefined;
    const hasBody = message.method !== "GET" && message.method !== "HEAD";
    let status = 0;
    let responseBody = "";
    let responseHeaders = new Headers();
    let error: string | undefined;
    try {
      const response = await fetch(message.destination, {
        method: message.method,
        headers,
        body: hasBody ? new Uint8Array(message.body) : undefined,
        redirect: "manual",
        signal: abort.signal,
      });
      responseBody = await response.text();
      ({ status, headers: responseHeaders } = response);
    } catch (cause) {
      error = (cause as Error).message;
    } finally {
      clearTimeout(timeout);
      aborts.delete(abort);
    }
    if (stopped) return;
    const url = message.destination;
    const { messageId, kind, retried } = message;
    const body = message.body.toString("utf8");
    options.deliveries.push({ messageId, kind, url, status, retried, body, headers, responseBody, error });
    if (status >= 200 && status < 300) return;
    const terminal = status === 489 && responseHeaders.get("upstash-nonretryable-error") === "true";
    if (!terminal && message.retried < message.maxRetries) {
      const wait = retryAfterMs(responseHeaders, Date.now()) ?? options.retryBackoff(message.retried);
      message.retried++;
      schedule(message, Date.now() + wait);
      return;
    }
    deadLetter(message, status, responseBody, responseHeaders);
  }

  function deadLetter(message: QStashMessage, status: number, responseBody: string, responseHeaders: Headers): void {
    // A failure callback that fails for good is only logged: QStash does not call a callback of a callback.
    if (message.kind === "failure-callback") return;
    const dlqId = `${Date.now()}-${options.dlq.length}`;
    const sourceBody = message.body.toString("base64");
    const { messageId, destination: url, retried, maxRetries, failureCallback } = message;
    options.dlq.push({ dlqId, messageId, url, status, responseBody, retried, maxRetries, sourceBody, failureCallback });
    if (!message.failureCallback) return;
    schedule(failureCallbackMessage(message, dlqId, { status, body: responseBody, headers: responseHeaders }), Date.now());
  }

  return {
    schedule,
    pending(messageId: string): QStashMessage | undefined {
      return timers.get(messageId)?.message ?? inFlight.get(messageId) ?? held.find((m) => m.messageId === messageId);
    },
    flush(): void {
      for (const { timer, message } of [...timers.values()]) {
        clearTimeout(timer);
        due(message);
      }
    },
    idle(): Promise<void> {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
    pause(): void {
      paused = true;
    },
    resume(): void {
      paused = false;
      for (const message of held.splice(0)) dispatch(message);
      checkIdle();
    },
    stop(): void {
      stopped = true;
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
      held.length = 0;
      for (const abort of aborts) abort.abort();
      inFlight.clear();
      checkIdle();
    },
  };
}
