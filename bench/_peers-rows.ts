// The rows and notes of benchmark 7 from its samples: ratios paired by round, CPU per file or MiB, peak RSS.
import type { PeerJob, PeerMeasurement, PeerVariant } from "./_peers.ts";
import { formatNumber, formatSize, MiB, percentile, rate } from "./_stats.ts";
import type { Measure, Row } from "./_types.ts";

export type Case = PeerJob["case"];

export interface Sample extends PeerMeasurement {
  /** CPU seconds the stand-in spent during the run; `null` where /proc is missing. */
  serverCpu: number | null;
}

const LABELS: Record<PeerVariant, string> = {
  ours: "queued-storage s3 driver (fs stream → setItemRaw)",
  "ours-node": "queued-storage s3 driver + createNodeFetch()",
  queued: "queued-storage transfer (memoryQueue)",
  "sdk-upload": "@aws-sdk/lib-storage Upload",
  "sdk-put": "@aws-sdk/client-s3 PutObject",
  unstorage: "unstorage/drivers/s3",
  aws4fetch: "aws4fetch client.fetch",
  "node-http": "node:http signed PUT",
};
const FETCH_BASED: PeerVariant[] = ["unstorage", "aws4fetch"];
const OURS: PeerVariant[] = ["ours", "ours-node", "queued"];

export function rateOf(kind: Case, m: PeerMeasurement): number {
  return kind === "small" ? m.amount / (m.ms / 1000) : m.amount / MiB / (m.ms / 1000);
}

export function unitOf(kind: Case): string {
  return kind === "small" ? "files/s" : "MiB/s";
}

export function perUnit(kind: Case, cpuMs: number, m: PeerMeasurement): number {
  return kind === "small" ? cpuMs / m.amount : cpuMs / (m.amount / MiB);
}

export function cpuUnit(kind: Case): string {
  return kind === "small" ? "ms/file" : "ms/MiB";
}

/**
 * The goal rows and one note per variant. A row's ratio is the median over rounds of candidate ÷ baseline measured in
 * the same round (the variants take turns within a round), since this machine's speed drifts between rounds more
 * than the variants differ. Rows whose variants were not run (BENCH7_ONLY) are left out.
 */
export function peerRows(input: { samples: Map<string, Sample[]>; variants: Record<Case, PeerVariant[]>; small: string; size: number }): { rows: Row[]; notes: string[] } {
  const { samples, variants, small, size } = input;
  const has = (kind: Case, variant: PeerVariant): boolean => samples.has(`${kind}:${variant}`);
  const list = (kind: Case, variant: PeerVariant): Sample[] => samples.get(`${kind}:${variant}`)!;
  const label = (kind: Case, variant: PeerVariant): string =>
    kind === "download" && variant === "sdk-put" ? "@aws-sdk/client-s3 GetObject" : LABELS[variant];
  const measureOf = (kind: Case, variant: PeerVariant): Measure =>
    rate(label(kind, variant), unitOf(kind), list(kind, variant).map((s) => rateOf(kind, s)));
  const bestOf = (kind: Case, among: PeerVariant[]): PeerVariant | undefined =>
    among.filter((v) => has(kind, v)).reduce<PeerVariant | undefined>((best, v) => (best && measureOf(kind, best).median >= measureOf(kind, v).median ? best : v), undefined);
  const cpuPer = (kind: Case, variant: PeerVariant, of: "client" | "server"): number =>
    percentile(list(kind, variant).map((s) => perUnit(kind, of === "client" ? s.cpuMs : (s.serverCpu ?? Number.NaN) * 1000, s)), 50);
  const peakRss = (kind: Case, variant: PeerVariant): number => Math.max(...list(kind, variant).map((s) => s.rssGrowth));
  const paired = (kind: Case, candidate: PeerVariant, baseline: PeerVariant): number => {
    const base = list(kind, baseline);
    return percentile(list(kind, candidate).map((s, i) => rateOf(kind, s) / rateOf(kind, base[i]!)), 50);
  };

  const rows: Row[] = [];
  const row = (kind: Case, name: string, candidate: PeerVariant, baseline: PeerVariant | undefined, goal: string, met: (ratio: number) => boolean | null): void => {
    if (!baseline || !has(kind, candidate) || !has(kind, baseline)) return;
    const ratio = paired(kind, candidate, baseline);
    rows.push({
      bench: 7,
      name,
      baseline: measureOf(kind, baseline),
      candidate: measureOf(kind, candidate),
      ratio,
      ratioLabel: "throughput, candidate ÷ baseline, median of the per-round ratios",
      goal,
      met: met(ratio),
      extra: {
        [`client CPU (candidate)`]: `${formatNumber(cpuPer(kind, candidate, "client"))} ${cpuUnit(kind)}`,
        [`client CPU (baseline)`]: `${formatNumber(cpuPer(kind, baseline, "client"))} ${cpuUnit(kind)}`,
        [`stand-in CPU (candidate)`]: `${formatNumber(cpuPer(kind, candidate, "server"))} ${cpuUnit(kind)}`,
        [`stand-in CPU (baseline)`]: `${formatNumber(cpuPer(kind, baseline, "server"))} ${cpuUnit(kind)}`,
        [`peak RSS growth (candidate)`]: formatSize(peakRss(kind, candidate)),
        [`peak RSS growth (baseline)`]: formatSize(peakRss(kind, baseline)),
      },
    });
  };
  const fetchPeer = bestOf("small", FETCH_BASED);
  const cpuOk = (variant: PeerVariant): boolean => cpuPer("small", variant, "client") <= 1.3;
  const rssOk = (kind: Case, variant: PeerVariant, limit: number): boolean => peakRss(kind, variant) <= limit * MiB;
  const big = formatSize(size);
  row("small", `${small}: vs best fetch-based peer`, "ours", fetchPeer, "≥ 1.00× and ≤ 1.3 ms CPU/file", (r) => r >= 1 && cpuOk("ours"));
  row("small", `${small}: vs raw node:http`, "ours", "node-http", "≥ 0.90×", (r) => r >= 0.9);
  row("small", `${small}, createNodeFetch: vs best fetch-based peer`, "ours-node", fetchPeer, "≥ 1.00× and ≤ 1.3 ms CPU/file", (r) => r >= 1 && cpuOk("ours-node"));
  row("small", `${small}, createNodeFetch: vs raw node:http`, "ours-node", "node-http", "≥ 0.90×", (r) => r >= 0.9);
  row("small", `${small}: whole transfer vs best fetch-based peer`, "queued", fetchPeer, "report", () => null);
  for (const [variant, how] of [["ours", ""], ["ours-node", ", createNodeFetch"]] as const) {
    row("upload", `${big} upload${how}`, variant, "sdk-upload", "≥ 1.10× and RSS ≤ 48 MiB", (r) => r >= 1.1 && rssOk("upload", variant, 48));
    row("download", `${big} download${how}`, variant, "sdk-put", "≥ 1.00× and RSS ≤ 32 MiB", (r) => r >= 1 && rssOk("download", variant, 32));
  }

  const notes: string[] = [];
  for (const kind of ["small", "upload", "download"] as Case[]) {
    const bestPeer = bestOf(kind, variants[kind].filter((v) => !OURS.includes(v)));
    for (const variant of variants[kind].filter((v) => has(kind, v))) {
      const m = measureOf(kind, variant);
      const versus = bestPeer ? `${formatNumber(m.median / measureOf(kind, bestPeer).median)}× best peer` : "no peer run";
      notes.push(`${kind} | ${label(kind, variant)} | ${formatNumber(m.median)} ${m.unit} | ${versus} | ` +
        `client ${formatNumber(cpuPer(kind, variant, "client"))} ${cpuUnit(kind)} | stand-in ${formatNumber(cpuPer(kind, variant, "server"))} ${cpuUnit(kind)} | ` +
        `peak RSS +${formatSize(peakRss(kind, variant))}`);
    }
  }
  return { rows, notes };
}
