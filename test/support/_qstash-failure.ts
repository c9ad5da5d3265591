import { newId, type QStashMessage } from "./_qstash-parse.ts";

/**
 * The message QStash publishes to `Upstash-Failure-Callback` once a message is dead-lettered (A3): the callback body
 * with `dlqId`, the last response (`status`, `header`, base64 `body`) and the original body as base64 `sourceBody`.
 * `Upstash-Failure-Callback-Forward-*` headers reach the callback; its retries default to the message's own.
 */
export function failureCallbackMessage(
  message: QStashMessage,
  dlqId: string,
  last: { status: number; body: string; headers: Headers },
): QStashMessage {
  const header: Record<string, string[]> = {};
  last.headers.forEach((value, name) => (header[name] = [value]));
  const sourceHeader: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(message.forward)) sourceHeader[name] = [value];
  const body = {
    status: last.status,
    header,
    body: Buffer.from(last.body).toString("base64"),
    retried: message.retried,
    maxRetries: message.maxRetries,
    dlqId,
    sourceMessageId: message.messageId,
    topicName: "",
    endpointName: "",
    url: message.destination,
    method: message.method,
    sourceHeader,
    sourceBody: message.body.toString("base64"),
    notBefore: String(message.notBefore),
    createdAt: String(message.createdAt),
    scheduleId: "",
    callerIP: "127.0.0.1",
  };
  const prefix = "upstash-failure-callback-forward-";
  const forward: Record<string, string> = { "content-type": "application/json" };
  for (const [name, value] of Object.entries(message.headers)) {
    if (name.startsWith(prefix)) forward[name.slice(prefix.length)] = value;
  }
  const retries = message.headers["upstash-failure-callback-retries"];
  const now = Date.now();
  return {
    ...message,
    messageId: newId("msg_"),
    kind: "failure-callback",
    destination: message.failureCallback!,
    method: "POST",
    body: Buffer.from(JSON.stringify(body)),
    forward,
    maxRetries: retries === undefined ? message.maxRetries : Number(retries),
    notBefore: now,
    createdAt: now,
    failureCallback: undefined,
    retried: 0,
  };
}
