import { _age } from "../_age.ts";
import type { ListedStatus, SyncReport, TransferStatus } from "../types.ts";
import type { TransferStats } from "../contracts.ts";

// Human output of the CLI: plain aligned tables, times in UTC, no colours (cron mails and CI logs read it too).

export function _table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

export function _time(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

export function _formatStats(stats: TransferStats, now: number): string {
  const rows = Object.entries(stats.counts).map(([state, n]) => [state, String(n)]);
  const table = _table(["STATE", "KEYS"], rows.map(([s, n]) => [s!, n!.padStart(5)]));
  const oldest = stats.oldestPending
    ? `oldest unfinished write: ${stats.oldestPending.key}, ${_age(now - stats.oldestPending.since)} old (since ${_time(stats.oldestPending.since)})`
    : "oldest unfinished write: none";
  return `${table}\n${oldest}`;
}

export function _formatList(items: Array<[string, ListedStatus]>): string {
  if (items.length === 0) return "no keys";
  const rows = items.map(([key, s]) => [
    key,
    s.state,
    String(s.attempts),
    _time(s.updatedAt),
    s.error === undefined ? "" : _oneLine(s.error, 100) + (s.dlqId ? ` (dlq ${s.dlqId})` : ""),
  ]);
  return _table(["KEY", "STATE", "ATTEMPTS", "UPDATED", "ERROR"], rows);
}

export function _formatStatus(key: string, status: TransferStatus | null, url?: string): string {
  if (!status) return `${key}: no transfer state`;
  const rows: string[][] = [
    ["key", key],
    ["state", status.state],
    ["tier", status.state === "remote" ? "remote" : "local"],
    ["generation", String(status.generation)],
    ["attempts", String(status.attempts)],
    ["updated", _time(status.updatedAt)],
  ];
  if (status.progress) rows.push(["progress", _bar(status.progress.bytes, status.progress.total)]);
  if (status.error !== undefined) rows.push(["error", _oneLine(status.error, 500)]);
  if (url) rows.push(["url", url]);
  return rows.map(([name, value]) => `${name!.padEnd(12)}${value}`).join("\n");
}

export function _formatStatuses(entries: Array<[string, TransferStatus | null]>): string {
  if (entries.length === 0) return "nothing to retry";
  return _table(
    ["KEY", "STATE", "ATTEMPTS", "ERROR"],
    entries.map(([key, s]) => [key, s?.state ?? "(no state)", s ? String(s.attempts) : "", s?.error === undefined ? "" : _oneLine(s.error, 100)]),
  );
}

export function _formatSync(report: SyncReport): string {
  const parts = [`queued ${report.queued}`, `removals finished ${report.removed}`, `waiting ${report.waiting}`, `ghosts dropped ${report.dropped}`];
  if (report.mismatched !== undefined) parts.push(`remote mismatches ${report.mismatched}`);
  return `sync: ${parts.join(", ")}`;
}

/** `[#########...........]  45% 4.5 MiB / 10.0 MiB`, or bytes only when the size is unknown. */
export function _bar(bytes: number, total?: number, width = 24): string {
  if (!total) return _bytes(bytes);
  const share = Math.min(1, bytes / total);
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${_bytes(bytes)} / ${_bytes(total)}`;
}

export function _bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), unit++;
  return `${value.toFixed(1)} ${units[unit]}`;
}

function _oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").replace(/^\[queued-storage\] /, "");
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
