// createNodeFetch when things go wrong, against real node:http and node:https servers on loopback: abort at every
// stage, refused and dropped connections, failing body streams, bad options, and TLS with a trusted and an
// untrusted certificate.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { Agent as HttpsAgent, createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeFetch } from "../../src/transports/node-fetch.ts";
import { drain, listen, rejection } from "./_servers.ts";
import { useTestServer } from "./_test-server.ts";

const server = useTestServer();
const nodeFetch = createNodeFetch();

describe("transports: createNodeFetch — abort and failures", () => {
  it("rejects with the signal's reason: already aborted, before the response, and during the body", async () => {
    const early = AbortSignal.abort(new Error("early"));
    await expect(nodeFetch(`${server.origin}/get`, { signal: early })).rejects.toThrow("early");

    const controller = new AbortController();
    const hanging = nodeFetch(`${server.origin}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(hanging).rejects.toMatchObject({ name: "AbortError" });

    const mid = new AbortController();
    const response = await nodeFetch(`${server.origin}/big`, { signal: mid.signal });
    const reader = response.body!.getReader();
    await reader.read();
    mid.abort();
    await expect(drain(reader)).rejects.toMatchObject({ name: "AbortError" });
  });

  it("a refused connection is a TypeError naming its cause, as fetch's is", async () => {
    const closed = createServer();
    const url = await listen(closed);
    closed.close();
    const error = await rejection(nodeFetch(`${url}/x`));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.cause.code).toBe("ECONNREFUSED");
  });

  it("a connection dropped mid-body errors the body with TypeError terminated, not a short success", async () => {
    const response = await nodeFetch(`${server.origin}/cut`);
    await expect(response.arrayBuffer()).rejects.toThrow("terminated");
  });

  it("a request body stream that fails rejects the fetch and cancels nothing the server kept", async () => {
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("source broke"));
      },
    });
    const error = await rejection(nodeFetch(`${server.origin}/broken`, { method: "PUT", body: failing, duplex: "half" } as RequestInit));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.cause.message).toBe("source broke");
    expect(server.seen.has("/broken")).toBe(false);
  });

  it("rejects a bad option by name, and a URL that is not one with a TypeError (a rejection, not a throw)", async () => {
    expect(() => createNodeFetch({ maxSockets: 0 })).toThrow("`maxSockets` must be a positive integer");
    const pending = nodeFetch("not a url");
    await expect(pending).rejects.toThrow(TypeError);
    await expect(pending).rejects.toThrow("Invalid URL: not a url");
  });
});

describe("transports: createNodeFetch — https", () => {
  let dir: string;
  let secure: Server;
  let secureOrigin: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "qs-tls-"));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    } catch (error) {
      throw new Error(`the https tests need the openssl command to make a certificate: ${(error as Error).message}`);
    }
    secure = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, server.handle);
    secureOrigin = (await listen(secure)).replace("http:", "https:");
  });
  afterAll(() => {
    secure?.closeAllConnections();
    secure?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("speaks TLS through the given httpsAgent (its CA trusted), and refuses an untrusted certificate", async () => {
    const trusted = createNodeFetch({ httpsAgent: new HttpsAgent({ ca: readFileSync(join(dir, "cert.pem")), keepAlive: true }) });
    const response = await trusted(`${secureOrigin}/echo`, { method: "POST", body: "over tls" });
    expect([response.status, await response.text()]).toEqual([201, "over tls"]);
    const error = await rejection(createNodeFetch()(`${secureOrigin}/get`));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.cause.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  });
});
