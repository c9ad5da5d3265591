import { expect, it } from "vitest";
import { signQStashJwt } from "../support/qstash-server.ts";
import { chunks, head, rawRequest, type RawAnswer } from "./_hostile-client.ts";

/** A running server under attack. */
export interface HostileTarget {
  port: number;
  /** Path of the webhook route. */
  path: string;
  /** The `sub` a valid token carries (the configured url, or any when none is configured). */
  subject: string;
  signingKey: string;
  bodyTimeoutMs: number;
  /** A valid job body for the seeded key (its current generation). */
  job(): Promise<string>;
  /** What the state store says about the seeded key, and how many calls reached the storage; throws when down. */
  state(): Promise<{ calls: number; status: unknown }>;
  /** Output of the server process so far (for failure messages). */
  output(): string;
  /**
   * The server itself keeps reading a refused body after the response, up to all of it (Deno.serve does, cancelled
   * or not, measured up to 64 MiB): then the bytes it lets a client send are not bounded by anything we do.
   */
  drainsRefusedBodies?: boolean;
}

const MiB = 1024 * 1024;

/**
 * The attacks, registered as tests against `target()`. After each the server must still answer and the state store
 * must show the seeded key exactly as before, with no call having reached the storage. The last test is the
 * positive control: a valid delivery does change both, so the check above can see a change.
 */
export function hostileCases(target: () => HostileTarget): void {
  const sign = (body: string | Uint8Array, key = target().signingKey): string =>
    signQStashJwt({ key, url: target().subject, body });
  const post = (headers: Record<string, string>): string => head(target().path, headers);
  const send = (steps: Parameters<typeof rawRequest>[1], deadlineMs?: number): Promise<RawAnswer> =>
    rawRequest(target().port, steps, deadlineMs);

  let before: { calls: number; status: unknown } | undefined;
  const untouched = async (): Promise<void> => {
    const now = await target().state().catch((error: Error) => {
      throw new Error(`the server stopped answering: ${error.message}\n${target().output().slice(-3000)}`);
    });
    before ??= now;
    expect(now, "state store and call count after the attack").toEqual(before);
    expect(now.calls).toBe(0);
  };
  /** The expected status, or no answer at all when the server reset a connection it closed with unread bytes. */
  const refused = (answer: RawAnswer, status: number): void => {
    if (answer.status === null) expect(answer.hungUp, `no answer and no hang-up: ${answer.response}`).toBe(true);
    else expect(answer.status, answer.response.slice(0, 300)).toBe(status);
  };
  const attack = (name: string, run: () => Promise<void>, timeout = 60_000): void => {
    it(name, async () => {
      await untouched();
      await run();
      await untouched();
    }, timeout);
  };

  attack("an unsigned 10 KB chunked body: 401 (the request that killed h3 1)", async () => {
    refused(await send([post({ "transfer-encoding": "chunked" }), ...chunks(10, 1024)]), 401);
  });

  attack("a garbage Upstash-Signature with a 10 KB chunked body: 401", async () => {
    refused(await send([post({ "upstash-signature": "garbage", "transfer-encoding": "chunked" }), ...chunks(10, 1024)]), 401);
  });

  attack("an unsigned 64 MiB chunked body: 401 or a closed connection, long before it is all sent", async () => {
    const answer = await send([post({ "upstash-signature": "garbage", "transfer-encoding": "chunked" }), ...chunks(1024, 64 * 1024)]);
    refused(answer, 401);
    // Kernel buffers on loopback hold a few MiB of what we "wrote"; a server that stops reading stays far below 64.
    if (!target().drainsRefusedBodies) expect(answer.written, "bytes the server let us send").toBeLessThan(32 * MiB);
  });

  attack("a validly signed chunked body past maxBodyBytes: 413", async () => {
    const job = await target().job();
    refused(await send([post({ "upstash-signature": sign(job), "transfer-encoding": "chunked" }), ...chunks(10, 1024)]), 413);
  });

  attack("a validly signed 10 MiB Content-Length: 413 without reading it", async () => {
    const job = await target().job();
    refused(await send([post({ "upstash-signature": sign(job), "content-length": String(10 * MiB) }), "a".repeat(1024)]), 413);
  });

  attack("a validly signed body that stalls: 408 once bodyTimeoutMs passed", async () => {
    const job = await target().job();
    const answer = await send(
      [post({ "upstash-signature": sign(job), "content-length": String(job.length) }), job.slice(0, 5), { pause: 120_000 }],
      target().bodyTimeoutMs + 20_000,
    );
    expect(answer.status).toBe(408);
  }, 120_000);

  attack("an unsigned body that stalls: 401 at once, without waiting for the body", async () => {
    const answer = await send([post({ "content-length": "100" }), "{", { pause: 120_000 }], 20_000);
    expect(answer.status, answer.response).toBe(401);
  });

  attack("a validly signed body aborted half-way, and a request aborted inside its headers", async () => {
    const job = await target().job();
    await send([post({ "upstash-signature": sign(job), "content-length": String(job.length) }), job.slice(0, 5), { pause: 100 }, { destroy: true }]);
    await send([post({ "upstash-signature": sign(job), "transfer-encoding": "chunked" }), ...chunks(3, 1000, false), { destroy: true }]);
    await send([`POST ${target().path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpstash-Signa`, { pause: 50 }, { destroy: true }]);
  });

  attack("huge headers (256 KiB): refused or closed, never a 2xx or 5xx", async () => {
    const answer = await send([post({ "upstash-signature": sign("{}"), "x-padding": "p".repeat(256 * 1024) }), "{}"]);
    expect(answer.status === null || (answer.status >= 400 && answer.status < 500), answer.response.slice(0, 200)).toBe(true);
  });

  attack("invalid UTF-8 in a validly signed body: 400; in the token: refused", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0xff, 0xfe, 0xc3, 0x28, 0x7d]);
    const signed = await send([post({ "upstash-signature": sign(bytes), "content-length": String(bytes.length) }), bytes]);
    expect(signed.status).toBe(400);
    expect(signed.response).toMatch(/not valid UTF-8/);
    const token = Buffer.concat([Buffer.from(sign("{}").slice(0, 20)), Buffer.from([0xff, 0xc3, 0x28])]);
    const answer = await send([Buffer.from(post({ "content-length": "2" }).replace("\r\n\r\n", "\r\nupstash-signature: ")), token, "\r\n\r\n{}"]);
    expect(answer.status === null || (answer.status >= 400 && answer.status < 500), answer.response.slice(0, 200)).toBe(true);
  });

  attack("forged, expired, wrong-key, wrong-issuer and unsigned-algorithm tokens: 401", async () => {
    const job = await target().job();
    const now = Math.floor(Date.now() / 1000);
    const tokens = [
      sign(job, "sig_someone-elses-key"),
      signQStashJwt({ key: target().signingKey, url: target().subject, body: job, claims: { exp: now - 60, iat: now - 360 } }),
      signQStashJwt({ key: target().signingKey, url: target().subject, body: job, claims: { iss: "Mallory" } }),
      signQStashJwt({ key: target().signingKey, url: target().subject, body: job, header: { alg: "none" } }),
      `${sign(job).split(".").slice(0, 2).join(".")}.`,
    ];
    for (const token of tokens) {
      refused(await send([post({ "upstash-signature": token, "content-length": String(job.length) }), job]), 401);
    }
  });

  attack("100 concurrent bad requests: each refused or closed, none reaches the storage", async () => {
    const job = await target().job();
    const kinds = [
      () => send([post({ "transfer-encoding": "chunked" }), ...chunks(20, 1024)]),
      () => send([post({ "upstash-signature": "garbage", "transfer-encoding": "chunked" }), ...chunks(20, 1024)]),
      () => send([post({ "upstash-signature": sign(job), "transfer-encoding": "chunked" }), ...chunks(20, 1024)]),
      () => send([post({ "upstash-signature": sign(job, "sig_forged"), "content-length": String(job.length) }), job]),
    ];
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => kinds[i % kinds.length]!()));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== null && s !== 401 && s !== 413), String(statuses)).toEqual([]);
    expect(answers.filter((a) => a.status === null && !a.hungUp).length, "requests neither answered nor closed").toBe(0);
    expect(statuses.filter((s) => s === 401 || s === 413).length).toBeGreaterThan(50);
  }, 120_000);

  it("control: a valid delivery reaches the storage and moves the seeded key (so the checks above can see a change)", async () => {
    const job = await target().job();
    const answer = await send([post({ "upstash-signature": sign(job), "content-length": String(job.length) }), job]);
    expect(answer.status, answer.response).toBe(200);
    expect(answer.response).toMatch(/"status":"transferred"/);
    const after = await target().state();
    expect(after.calls).toBe(1);
    expect((after.status as { state: string }).state).toBe("remote");
  }, 60_000);
}
