import { connect } from "node:net";

/** One step of a raw request: bytes to write, a pause, or hanging up. */
export type Step = string | Uint8Array | { pause: number } | { destroy: true };

export interface RawAnswer {
  /** Status of the response, `null` when none came (the connection was closed or we hung up). */
  status: number | null;
  /** The response head and whatever of the body arrived. */
  response: string;
  /** Bytes we managed to write before the server answered or closed. */
  written: number;
  /** Whether the server closed or reset the connection (rather than our deadline or our own hang-up ending it). */
  hungUp: boolean;
}

/**
 * Send a request over a raw TCP socket, step by step, the way no HTTP client would: bodies that never end, stall or
 * lie about their length, headers no client sends. Writing stops once the server answers or closes; the call
 * resolves when a response head arrived, the socket closed, we hung up, or `deadlineMs` passed (status `null`).
 */
export function rawRequest(port: number, steps: Step[], deadlineMs = 30_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let response = "";
    let written = 0;
    let finished = false;
    let hungUp = false;
    let answered: () => void = () => {};
    const answeredOrClosed = new Promise<void>((r) => (answered = r));
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1];
      resolve({ status: status ? Number(status) : null, response, written, hungUp });
    };
    const timer = setTimeout(finish, deadlineMs);
    socket.on("error", () => {
      hungUp = !finished;
      answered();
    });
    socket.on("close", () => {
      hungUp ||= !finished;
      answered();
      finish();
    });
    socket.setEncoding("latin1").on("data", (text: string) => {
      response += text;
      if (response.includes("\r\n\r\n")) {
        answered();
        // Give the rest of a short body a moment to arrive with the head, then report.
        setTimeout(finish, 50);
      }
    });
    socket.once("connect", async () => {
      for (const step of steps) {
        if (finished) return;
        if (typeof step === "object" && "destroy" in step) return finish();
        if (typeof step === "object" && "pause" in step) {
          await Promise.race([new Promise((r) => setTimeout(r, step.pause)), answeredOrClosed]);
          continue;
        }
        const bytes = typeof step === "string" ? Buffer.from(step, "latin1") : step;
        const flushed = new Promise<boolean>((r) => socket.write(bytes, (error) => r(!error)));
        const ok = await Promise.race([flushed, answeredOrClosed.then(() => false)]);
        if (!ok) return;
        written += bytes.byteLength;
      }
    });
  });
}

/** The head of a POST to `path`, with extra header lines. */
export function head(path: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.join("")}\r\n`;
}

/** `count` chunks of `size` bytes of chunked transfer encoding, optionally with the final zero chunk. */
export function chunks(count: number, size: number, last = true): Step[] {
  const chunk = `${size.toString(16)}\r\n${"a".repeat(size)}\r\n`;
  return [...Array.from({ length: count }, () => chunk), ...(last ? ["0\r\n\r\n"] : [])];
}
