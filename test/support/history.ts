// A Jepsen-style history of concurrent operations on a few keys, checked as one register per key with unique written
// values (DESIGN.md invariant 7). Every operation records its invocation and completion on one logical clock; the
// checker searches for a linearization (Wing & Gong, with memoization): an order of the completed writes, removes and
// reads that respects real time (an operation that ended before another began comes first) and in which every read
// returns the value of the latest write before it. A rejected write must never be observed.

export type OpKind = "write" | "remove" | "read" | "control";

export interface Op {
  client: number;
  key: string;
  kind: OpKind;
  /** What ran: setItem, setItemRaw, getItem, getItemRaw, removeItem, transfer, transferNow, sync. */
  name: string;
  /** The value a write wrote (unique), `null` for a remove. */
  value?: string | null;
  start: number;
  end: number;
  ok: boolean;
  /** What a read returned. */
  result?: string | null;
  error?: string;
}

export interface History {
  ops: Op[];
  /** Record one operation: `run` resolves to what a read returned (ignored for others). */
  record(op: Omit<Op, "start" | "end" | "ok" | "result" | "error">, run: () => Promise<string | null | void>): Promise<void>;
}

export function createHistory(): History {
  let clock = 0;
  const ops: Op[] = [];
  return {
    ops,
    async record(partial, run) {
      const op: Op = { ...partial, start: ++clock, end: Infinity, ok: false };
      ops.push(op);
      try {
        const result = await run();
        if (op.kind === "read") op.result = result ?? null;
        op.ok = true;
      } catch (error) {
        op.error = (error as Error).message;
      }
      op.end = ++clock;
    },
  };
}

/** The violations of a history, per key; empty when every key's history is linearizable. */
export function checkHistory(ops: Op[]): string[] {
  const problems: string[] = [];
  for (const key of new Set(ops.map((op) => op.key))) {
    const mine = ops.filter((op) => op.key === key && op.kind !== "control");
    const rejected = new Set(mine.filter((op) => op.kind === "write" && !op.ok).map((op) => op.value));
    const written = new Set(mine.filter((op) => op.kind === "write" && op.ok).map((op) => op.value));
    for (const op of mine) {
      if (op.kind === "remove" && !op.ok) problems.push(`"${key}": removeItem failed: ${op.error}`);
      if (op.kind !== "read" || !op.ok || op.result === null || op.result === undefined) continue;
      if (rejected.has(op.result)) problems.push(`"${key}": client ${op.client} read ${op.result}, a value whose write was rejected`);
      else if (!written.has(op.result)) problems.push(`"${key}": client ${op.client} read ${op.result}, which was never written`);
    }
    // Completed reads, writes and removes take part; failed writes never took effect (invariant 6).
    const events = mine.filter((op) => op.ok);
    if (!_linearizable(events)) problems.push(`"${key}": no linearization exists:\n${_describe(_shortestViolation(events))}`);
  }
  return problems;
}

function _linearizable(events: Op[]): boolean {
  const n = events.length;
  const seen = new Set<string>();
  const done = new Array<boolean>(n).fill(false);
  const search = (count: number, value: string | null): boolean => {
    if (count === n) return true;
    const memo = `${done.map((d) => (d ? 1 : 0)).join("")}|${value}`;
    if (seen.has(memo)) return false;
    seen.add(memo);
    // Only an operation that began before every pending one ended may come next (real-time order).
    let horizon = Infinity;
    for (let i = 0; i < n; i++) if (!done[i]) horizon = Math.min(horizon, events[i]!.end);
    for (let i = 0; i < n; i++) {
      const op = events[i]!;
      if (done[i] || op.start > horizon) continue;
      let next = value;
      if (op.kind === "read") {
        if ((op.result ?? null) !== value) continue;
      } else next = op.kind === "remove" ? null : op.value!;
      done[i] = true;
      if (search(count + 1, next)) return true;
      done[i] = false;
    }
    return false;
  };
  return search(0, null);
}

/**
 * The shortest failing prefix, for the report: the reads that ended by some instant and the writes that began by it
 * (a sub-history that stays linearizable when the whole is). Its last read is where it goes wrong.
 */
function _shortestViolation(events: Op[]): Op[] {
  const ends = [...new Set(events.filter((op) => op.kind === "read").map((op) => op.end))].sort((a, b) => a - b);
  for (const instant of ends) {
    const prefix = events.filter((op) => (op.kind === "read" ? op.end <= instant : op.start <= instant));
    if (!_linearizable(prefix)) return prefix;
  }
  return events;
}

function _describe(events: Op[]): string {
  return [...events]
    .sort((a, b) => a.start - b.start)
    .map((op) => `  [${op.start}–${op.end}] c${op.client} ${op.name}${op.kind === "read" ? ` → ${op.result}` : op.kind === "write" ? `(${op.value})` : ""}`)
    .join("\n");
}
