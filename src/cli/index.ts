#!/usr/bin/env node
// The operator CLI (bin "queued-storage"): citty commands over the controls of the storage that
// queued-storage.config.ts describes (c12). Exit codes: 0 fine, 1 error (bad config, bad input, unreachable
// service), 2 an alert condition (`stats --fail-on`, `--max-age`; keys still failed after `retry`).
import { defineCommand, runMain, type ArgsDef, type CommandDef } from "citty";
import type { TransferState } from "../contracts.ts";
import { _loadStorage, type _CliStorage } from "./_config.ts";
import { _formatList, _formatStats, _formatStatus, _formatStatuses, _formatSync } from "./_format.ts";
import { _drainShowingProgress } from "./_progress.ts";

const EXIT_ERROR = 1;
const EXIT_ALERT = 2;
const STATES: TransferState[] = ["local", "queued", "transferring", "remote", "failed"];

const common = {
  config: { type: "string", description: "Config file (default: queued-storage.config.{ts,mjs,js} in --cwd)", valueHint: "file" },
  cwd: { type: "string", description: "Directory to look for the config and .env in (default: the current one)" },
  json: { type: "boolean", description: "Print JSON for scripts instead of a table" },
} as const satisfies ArgsDef;

const wait = { wait: { type: "boolean", default: true, description: "Wait for in-process transfers (memory queue) to finish; --no-wait to leave" } } as const satisfies ArgsDef;

/** A command that loads the storage, runs, prints, and always lets the storage go; errors exit 1 with one line. */
function command<A extends ArgsDef>(
  meta: { name: string; description: string },
  args: A,
  run: (storage: _CliStorage, args: Record<string, any>, print: (human: string, json: unknown) => void) => Promise<number | void>,
): CommandDef<A & typeof common> {
  return defineCommand({
    meta,
    args: { ...common, ...args } as A & typeof common,
    async run({ args: parsed }) {
      let storage: _CliStorage | undefined;
      try {
        storage = await _loadStorage({ cwd: parsed.cwd, config: parsed.config });
        const print = (human: string, json: unknown): void => void process.stdout.write(`${parsed.json ? JSON.stringify(json, null, 2) : human}\n`);
        process.exitCode = (await run(storage, parsed, print)) ?? 0;
      } catch (error) {
        process.stderr.write(`queued-storage ${meta.name}: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = EXIT_ERROR;
      } finally {
        await storage?.close().catch(() => {});
      }
    },
  });
}

const stats = command(
  { name: "stats", description: "Keys per state and the oldest unfinished write" },
  {
    "fail-on": { type: "string", description: "Exit 2 when any key is in one of these states (comma-separated), e.g. failed", valueHint: "states" },
    "max-age": { type: "string", description: "Exit 2 when the oldest unfinished write is older than this many seconds", valueHint: "seconds" },
  },
  async ({ controls }, args, print) => {
    const failOn = String(args["fail-on"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const bad = failOn.find((s) => !STATES.includes(s as TransferState));
    if (bad) throw new Error(`--fail-on: unknown state "${bad}"; one of ${STATES.join(", ")}`);
    const maxAge = args["max-age"] === undefined ? undefined : Number(args["max-age"]);
    if (maxAge !== undefined && !(maxAge >= 0)) throw new Error("--max-age: expected a number of seconds");
    const now = Date.now();
    const result = await controls.stats();
    const alerts = failOn.filter((s) => result.counts[s as TransferState] > 0).map((s) => `${result.counts[s as TransferState]} ${s}`);
    const age = result.oldestPending ? (now - result.oldestPending.since) / 1000 : 0;
    if (maxAge !== undefined && age > maxAge) alerts.push(`oldest unfinished write ${Math.round(age)}s old`);
    print(_formatStats(result, now) + (alerts.length ? `\nALERT: ${alerts.join(", ")}` : ""), { ...result, alerts });
    return alerts.length ? EXIT_ALERT : 0;
  },
);

const list = command(
  { name: "list", description: "Keys with their status, a page at a time, in key order" },
  {
    state: { type: "string", description: `Only keys in this state (${STATES.join(", ")})`, valueHint: "state" },
    prefix: { type: "string", description: "Only keys starting with this text", valueHint: "prefix" },
    limit: { type: "string", description: "Keys per page, 1 to 1000 (default 100)", valueHint: "n" },
    cursor: { type: "string", description: "Continue where the previous page ended" },
    all: { type: "boolean", description: "Every page, not just the first" },
  },
  async ({ controls }, args, print) => {
    const limit = args.limit === undefined ? undefined : Number(args.limit);
    const items = [];
    let cursor: string | null = args.cursor ?? null;
    do {
      const page = await controls.list({ state: args.state, prefix: args.prefix, limit, ...(cursor && { cursor }) });
      items.push(...page.items);
      cursor = page.cursor;
    } while (args.all && cursor);
    print(_formatList(items) + (cursor ? `\nmore: --cursor ${cursor}` : ""), { items, cursor });
  },
);

const status = command(
  { name: "status", description: "The transfer status of one key" },
  { key: { type: "positional", description: "The key, e.g. avatars:1.png", required: true } },
  async ({ controls }, args, print) => {
    const result = await controls.status(args.key);
    print(_formatStatus(args.key, result), result);
    return result ? 0 : EXIT_ERROR;
  },
);

const retry = command(
  { name: "retry", description: "Queue a key again, or every failed key (--failed)" },
  {
    key: { type: "positional", description: "The key to retry", required: false },
    failed: { type: "boolean", description: "Retry every failed key" },
    prefix: { type: "string", description: "With --failed: only keys starting with this text" },
    ...wait,
  },
  async ({ controls }, args, print) => {
    if (!args.key === !args.failed) throw new Error("give a key or --failed (not both)");
    const keys = args.failed
      ? (await controls.retry({ state: "failed", prefix: args.prefix })).map(([key]) => key)
      : (await controls.retry(args.key)) ? [args.key as string] : [];
    if (args.wait) await _drainShowingProgress(controls, keys, !args.json);
    const statuses = await Promise.all(keys.map(async (key) => [key, await controls.status(key)] as [string, Awaited<ReturnType<typeof controls.status>>]));
    print(_formatStatuses(statuses), statuses);
    if (!args.failed && statuses.length === 0) return EXIT_ERROR;
    return statuses.some(([, s]) => s?.state === "failed") ? EXIT_ALERT : 0;
  },
);

const sync = command(
  { name: "sync", description: "Queue every unfinished key, finish interrupted removals, drop ghosts" },
  { verify: { type: "boolean", description: "Also check remote objects against their records" }, ...wait },
  async ({ controls }, args, print) => {
    const report = await controls.sync({ verify: args.verify === true });
    if (args.wait) await controls.drain();
    print(_formatSync(report), report);
  },
);

const transfer = command(
  { name: "transfer", description: "Queue the transfer of a key now (delayed mode, or to redo one)" },
  { key: { type: "positional", description: "The key", required: true }, ...wait },
  async ({ controls }, args, print) => {
    const queued = await controls.transfer(args.key);
    if (!queued) throw new Error(`"${args.key}" has no transfer state`);
    if (args.wait) await _drainShowingProgress(controls, [args.key], !args.json);
    const result = await controls.status(args.key);
    print(_formatStatus(args.key, result), result);
    return result?.state === "failed" ? EXIT_ALERT : 0;
  },
);

const url = command(
  { name: "url", description: "A URL a browser can fetch the key at (local until transferred, then the remote's)" },
  {
    key: { type: "positional", description: "The key", required: true },
    "expires-in": { type: "string", description: "Seconds a presigned remote URL stays valid", valueHint: "seconds" },
  },
  async ({ controls }, args, print) => {
    const expiresIn = args["expires-in"] === undefined ? undefined : Number(args["expires-in"]);
    const link = await controls.url(args.key, expiresIn === undefined ? undefined : { expiresIn });
    print(link, { key: args.key, url: link });
  },
);

export const main: CommandDef = defineCommand({
  meta: {
    name: "queued-storage",
    description: "See and steer the transfers of a queued storage (exit codes: 0 fine, 1 error, 2 alert)",
  },
  subCommands: { stats, list, status, retry, sync, transfer, url },
});

void runMain(main);
