import { Client, type FlowControl, type PublishRequest } from "@upstash/qstash";
import { _error, _messageOf } from "../_errors.ts";
import { _validateJob } from "../_job.ts";
import { _assertHttpUrl, _env, _failureCallbackUrl } from "./_qstash-shared.ts";
import type { TransferJob, TransferQueue } from "../contracts.ts";

export { createTransferHandler } from "./qstash-webhook.ts";
export type { TransferHandlerOptions } from "./qstash-webhook.ts";

/** Options of {@link qstashQueue}. Publish options follow https://upstash.com/docs/qstash/api/publish */
export interface QStashQueueOptions {
  /**
   * A ready `@upstash/qstash` client. Without it one is created on first use from `token` and `baseUrl`.
   * @example client: new Client({ token: env.QSTASH_TOKEN })
   */
  client?: Client;
  /**
   * The QStash token, when no `client` is given. Default: env `QSTASH_TOKEN`.
   * @example token: env.QSTASH_TOKEN
   */
  token?: string;
  /**
   * The QStash API base URL, when no `client` is given. Default: env `QSTASH_URL`, else the SDK's default.
   * @example baseUrl: "https://qstash-eu-central-1.upstash.io"
   */
  baseUrl?: string;
  /**
   * The public URL of the webhook that runs `createTransferHandler(storage)`; every job is POSTed there.
   * @example url: "https://app.example.com/api/transfer"
   */
  url: string;
  /**
   * Where QStash reports a job whose retries ran out, so the key is marked `failed` (and `sync()` can retry it).
   * It must be served by `createTransferHandler` too, which knows dead letters by the `?queued-storage=failure`
   * marker added to this URL. Default: `url` (the same handler); `false` to configure no failure callback.
   * @example failureCallbackUrl: "https://app.example.com/api/transfer-failed" // or false
   */
  failureCallbackUrl?: string | false;
  /**
   * Delivery retries after the first attempt (QStash's default is 3; your plan caps it).
   * @example retries: 5
   */
  retries?: number;
  /**
   * QStash retry-delay expression in milliseconds, with `retried` counting from 0. Default: QStash's backoff.
   * @example retryDelay: "1000 * pow(2, retried)"
   */
  retryDelay?: string;
  /**
   * Delay before the first delivery: seconds or a duration such as `"30s"`, e.g. to let overwrites settle.
   * @example delay: "10s"
   */
  delay?: PublishRequest["delay"];
  /**
   * Limit parallel or per-period deliveries of the transfers sharing `key` (protects the remote).
   * @example flowControl: { key: "uploads", parallelism: 4 }
   */
  flowControl?: FlowControl;
  /**
   * Timeout of one delivery: seconds or a duration; the handler must answer within it.
   * @example timeout: "5m"
   */
  timeout?: PublishRequest["timeout"];
  /**
   * Headers QStash forwards to the webhook (and to the failure callback), e.g. a deployment-protection bypass.
   * @example headers: { "x-vercel-protection-bypass": env.VERCEL_AUTOMATION_BYPASS_SECRET }
   */
  headers?: Record<string, string>;
}

/** Jobs per `POST /v2/batch`: well inside QStash's request limits even with long keys and forwarded headers. */
const BATCH_SIZE = 100;

/**
 * Transfer jobs through QStash: each job `{ key, generation }` is published to `url`, where
 * `createTransferHandler(storage)` runs it; QStash retries failed deliveries and reports dead letters to the
 * failure callback. The deduplication id is derived from url, key and generation, so publishing the same job twice
 * within QStash's window delivers it once; a deliberate redo (`transfer(key)`, `sync()`, a rollback: `redo: true`)
 * goes out with an id of its own, so it is never swallowed by a delivery QStash still holds.
 *
 * @example
 * const queue = qstashQueue({ url: "https://app.example.com/api/transfer" }); // token: env QSTASH_TOKEN
 * const storage = createQueuedStorage({ local, remote, flags: upstashFlags(), queue });
 */
export function qstashQueue(options: QStashQueueOptions): TransferQueue {
  if (!options || typeof options !== "object") throw _error("qstashQueue(options): `options` must be an object", { scope: "qstash" });
  _assertHttpUrl("url", options.url);
  const url = options.url;
  if (options.failureCallbackUrl) _assertHttpUrl("failureCallbackUrl", options.failureCallbackUrl);
  const failureCallback =
    options.failureCallbackUrl === false ? undefined : _failureCallbackUrl(options.failureCallbackUrl ?? url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    headers[name] = value;
    // The failure callback is a separate request: protection bypasses must reach it too.
    if (failureCallback) headers[`Upstash-Failure-Callback-Forward-${name}`] = value;
  }

  let client = options.client;
  const getClient = (): Client => {
    if (client) return client;
    const token = options.token ?? _env("QSTASH_TOKEN");
    if (!token) throw _error("qstashQueue: no QStash token: pass `token` or `client`, or set QSTASH_TOKEN", { scope: "qstash" });
    const baseUrl = options.baseUrl ?? _env("QSTASH_URL");
    return (client = new Client(baseUrl ? { token, baseUrl } : { token }));
  };

  async function request(job: TransferJob, redo: boolean): Promise<_Request> {
    // Only these two fields ever leave the process, whatever else the job object carries.
    const { key, generation } = _validateJob({ key: job.key, generation: job.generation });
    const deduplicationId = await _deduplicationId(url, key, generation);
    return {
      url,
      body: { key, generation },
      // A redo gets an id of its own: deduplicated against a delivery that is still being answered (it already
      // settled, but QStash still holds its message), it would be dropped and the key left without a job.
      deduplicationId: redo ? `${deduplicationId}-${_nonce()}` : deduplicationId,
      headers,
      ...(failureCallback && { failureCallback }),
      ...(options.retries !== undefined && { retries: options.retries }),
      ...(options.retryDelay !== undefined && { retryDelay: options.retryDelay }),
      ...(options.delay !== undefined && { delay: options.delay }),
      ...(options.flowControl && { flowControl: options.flowControl }),
      ...(options.timeout !== undefined && { timeout: options.timeout }),
    };
  }

  return {
    name: "qstash",
    async enqueue(job, enqueueOptions) {
      const message = await request(job, enqueueOptions?.redo === true);
      try {
        // POST /v2/publish/{url}
        const result = (await getClient().publishJSON(message)) as _Published;
        if (result.deduplicated) await _republishIfGone(getClient(), message, result.messageId);
      } catch (cause) {
        throw _error(`publishing the transfer of "${job.key}" failed: ${_messageOf(cause)}`, { scope: "qstash", cause });
      }
    },
    async enqueueMany(jobs, enqueueOptions) {
      const messages = await Promise.all(jobs.map((job) => request(job, enqueueOptions?.redo === true)));
      for (let start = 0; start < messages.length; start += BATCH_SIZE) {
        const chunk = messages.slice(start, start + BATCH_SIZE);
        try {
          // POST /v2/batch (batchJSON serializes each body; it gets fresh copies, it mutates them)
          const results = (await getClient().batchJSON(chunk.map((m) => ({ ...m })))) as _Published[];
          for (const [index, result] of results.entries()) {
            if (result?.deduplicated) await _republishIfGone(getClient(), chunk[index]!, result.messageId);
          }
        } catch (cause) {
          const done = `${start} of ${messages.length} jobs were published`;
          throw _error(`publishing a batch of transfers failed (${done}): ${_messageOf(cause)}`, { scope: "qstash", cause });
        }
      }
    },
  };
}

// --- internal ---

type _Request = {
  url: string;
  body: TransferJob;
  deduplicationId: string;
  headers: Record<string, string>;
} & Omit<PublishRequest, "url" | "body" | "urlGroup" | "api" | "topic" | "callback">;

interface _Published {
  messageId: string;
  deduplicated?: boolean;
}

/**
 * `qs-` + SHA-256 hex of [url, key, generation]: stable per job, different per generation and webhook, URL-safe
 * whatever the key contains, and it reveals nothing about the key.
 */
async function _deduplicationId(url: string, key: string, generation: number): Promise<string> {
  const data = new TextEncoder().encode(JSON.stringify([url, key, generation]));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return `qs-${Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/** A unique suffix for a redo's deduplication id. */
function _nonce(): string {
  return `r${Date.now().toString(36)}${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36)}`;
}

/**
 * QStash dropped a publish as a duplicate. That is right while the first message is still waiting or retrying;
 * once it was delivered or dead-lettered, the same job published again is a deliberate redo (`transfer(key)`,
 * `sync()` after a failure) and must run, so it goes out with a fresh deduplication id.
 */
async function _republishIfGone(client: Client, message: _Request, messageId: string): Promise<void> {
  try {
    // GET /v2/messages/{id}: only messages QStash still has to deliver are found
    await client.messages.get(messageId);
    return;
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
  }
  const deduplicationId = `${message.deduplicationId}-${Date.now().toString(36)}`;
  await client.publishJSON({ ...message, deduplicationId });
}
