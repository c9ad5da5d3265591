// 9. What a hostile request costs the webhook: bytes the server reads from the socket and time until it answers, for
// bodies of 10 MiB that are unsigned, garbage-signed or validly signed but too large, on each node adapter.
// Run: `npm run bench -- --only=9` (a markdown table in the notes; medians of 5 runs per cell). No goal: a report.
import { createAdaptorServer } from "@hono/node-server";
import { createApp, createRouter, defineEventHandler, toNodeListener } from "h3";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { CURRENT_KEY, createHostileApp } from "../test/adapters/_hostile-app.ts";
import { chunks, head, rawRequest, type Step } from "../test/adapters/_hostile-client.ts";
import { signQStashJwt } from "../test/support/_qstash-jwt.ts";
import { defineTransferHandler } from "../src/adapters/h3.ts";
import { HANDLER_OPTIONS } from "../test/adapters/_hostile-app.ts";
import type { BenchOptions, BenchResult } from "./_types.ts";

const MiB = 1024 * 1024;
const RUNS = 5;

async function servers(): Promise<Array<[string, Server]>> {
  const app = await createHostileApp();
  const router = createRouter()
    .get("/health", defineEventHandler(() => app.health()))
    .post("/api/transfer", defineTransferHandler(app.target, HANDLER_OPTIONS));
  return [
    ["h3 1 (toNodeListener)", createServer(toNodeListener(createApp().use(router)))],
    ["Hono (@hono/node-server)", createAdaptorServer({ fetch: (r: Request) => Promise.resolve(app.hono.fetch(r)) }) as Server],
    ["createTransferHandler (@hono/node-server)", createAdaptorServer({ fetch: app.fetch }) as Server],
  ];
}

const job = JSON.stringify({ key: "seeded:photo.jpg", generation: 1 });
const signed = signQStashJwt({ key: CURRENT_KEY, url: "http://127.0.0.1/api/transfer", body: job });
const body = chunks(160, 64 * 1024); // 10 MiB, chunked
const CASES: Array<[string, Step[]]> = [
  ["no Upstash-Signature, 10 MiB chunked", [head("/api/transfer", { "transfer-encoding": "chunked" }), ...body]],
  ["garbage Upstash-Signature, 10 MiB chunked", [head("/api/transfer", { "upstash-signature": "garbage", "transfer-encoding": "chunked" }), ...body]],
  ["forged token (wrong key), 10 MiB chunked", [head("/api/transfer", { "upstash-signature": signQStashJwt({ key: "sig_x", url: "x", body: job }), "transfer-encoding": "chunked" }), ...body]],
  ["valid token, 10 MiB chunked (413)", [head("/api/transfer", { "upstash-signature": signed, "transfer-encoding": "chunked" }), ...body]],
  ["valid token, Content-Length 10 MiB (413)", [head("/api/transfer", { "upstash-signature": signed, "content-length": String(10 * MiB) }), ...body.slice(0, 16)]],
];

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const kib = (bytes: number): string => (bytes < 10 * 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(0)} KiB`);

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const began = performance.now();
  opts.log(`9: ${CASES.length} hostile requests × ${RUNS} runs on each node adapter`);
  const rows: string[] = ["| adapter | request | status | bytes the server read | bytes the client got out | time to answer |", "|---|---|---|---|---|---|"];
  for (const [name, server] of await servers()) {
    const reads: number[] = [];
    server.on("connection", (socket: Socket) => socket.once("close", () => reads.push(socket.bytesRead)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    for (const [label, steps] of CASES) {
      const statuses = new Set<string>();
      const read: number[] = [];
      const written: number[] = [];
      const times: number[] = [];
      for (let attempt = 0; attempt < RUNS; attempt++) {
        reads.length = 0;
        const started = performance.now();
        const answer = await rawRequest(port, steps);
        times.push(performance.now() - started);
        statuses.add(String(answer.status ?? "closed"));
        written.push(answer.written);
        // The server-side socket closes right after; wait for its count.
        for (let i = 0; reads.length === 0 && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
        read.push(reads[0] ?? Number.NaN);
      }
      rows.push(`| ${name} | ${label} | ${[...statuses].join("/")} | ${kib(median(read))} | ${kib(median(written))} | ${median(times).toFixed(1)} ms |`);
    }
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
  return {
    id: 9,
    title: "What a hostile request costs the webhook",
    params: { body: "10 MiB", runs: RUNS },
    rows: [],
    notes: [...rows, `medians of ${RUNS} runs; "bytes the client got out" includes what loopback kernel buffers took`],
    seconds: (performance.now() - began) / 1000,
  };
}
