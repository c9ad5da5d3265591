import { lstat, readdir, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";

/**
 * Temp files of atomic writes carry their writer: `.<name>.<host>-<pid>-<start>.<16 hex>.tmp`, with `host` a hash of
 * the host name and `start` the writer process's start time (base 36 ms). A sweep removes the temp files of writers
 * known dead: same host, and either the pid is gone (`process.kill(pid, 0)` fails with ESRCH) or it is this process's
 * pid with a start time more than a second off (a restarted container reuses pid 1). Temp files of other hosts sharing the directory,
 * of live pids, and of the old unmarked format are removed only once unmodified for `staleMs`: a live writer keeps
 * touching its file, so the age is the fallback that never needs to know who wrote.
 */
const OWNED = /^\..*\.([0-9a-f]{8})-([0-9a-z]+)-([0-9a-z]+)\.[0-9a-f]{16}\.tmp$/;
const ANY_TEMP = /^\..*\.[0-9a-f]{16}\.tmp$/;

/** Host tag of a host whose name could not be read: its temp files are judged by age only. */
const UNKNOWN_HOST = "00000000";

interface _Writer {
  host: string;
  pid: number;
  /** The process's start (epoch ms), not the thread's: worker threads of one process share its pid. */
  started: number;
}
let _self: _Writer | undefined;

/** This process as a writer, read on first use (Deno asks for --allow-sys for the host name; without it, unknown). */
function _writer(): _Writer {
  let host = UNKNOWN_HOST;
  try {
    host = _fnv1a(hostname());
  } catch {
    // no permission to read the host name: age decides
  }
  return (_self ??= { host, pid: process.pid, started: Math.round(Date.now() - process.uptime() * 1000) });
}

/** Whether a file name is a temp file (of any writer or format); such names are never keys. */
export function _isTempName(name: string): boolean {
  return ANY_TEMP.test(name);
}

/** A fresh temp name for a write of `name`, marked with this process as its writer. */
export function _tempName(name: string): string {
  const random = crypto.getRandomValues(new Uint8Array(8));
  let hex = "";
  for (const byte of random) hex += byte.toString(16).padStart(2, "0");
  // Keep within NAME_MAX (255) whatever the target's length.
  const self = _writer();
  return `.${name.slice(0, 180)}.${self.host}-${self.pid.toString(36)}-${self.started.toString(36)}.${hex}.tmp`;
}

/** What a sweep did, paths relative to the base. */
export interface TempSweep {
  /** Temp files removed (their writer was dead, or they were older than the age limit). */
  removed: string[];
  /** Temp files left alone (a writer may still be writing them). */
  kept: string[];
}

/**
 * Remove stale temp files under `root`; `skip` says which relative directories not to enter (ignored paths).
 * Links are not followed. Files that vanish meanwhile (their writer renamed them) are simply not counted.
 */
export async function _sweepTemps(root: string, staleMs: number, skip: (relative: string) => boolean): Promise<TempSweep> {
  const sweep: TempSweep = { removed: [], kept: [] };
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(root, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const name = String(entry.name);
      const path = relative ? `${relative}/${name}` : name;
      if (entry.isDirectory()) {
        if (!skip(path)) await walk(path);
      } else if (entry.isFile() && ANY_TEMP.test(name)) {
        if (await _isStale(join(root, path), name, staleMs)) {
          const gone = await unlink(join(root, path)).then(() => true, () => false);
          if (gone) sweep.removed.push(path);
        } else {
          sweep.kept.push(path);
        }
      }
    }
  };
  await walk("");
  return sweep;
}

// --- internal ---

async function _isStale(path: string, name: string, staleMs: number): Promise<boolean> {
  const owner = OWNED.exec(name);
  const self = _writer();
  if (owner && owner[1] === self.host && self.host !== UNKNOWN_HOST) {
    const pid = Number.parseInt(owner[2]!, 36);
    // Our own pid with another start time: a restarted process (containers reuse pid 1). Computed start times of one
    // process differ by a few milliseconds between threads, hence the margin.
    if (pid === self.pid) return Math.abs(Number.parseInt(owner[3]!, 36) - self.started) > 1000;
    if (_alive(pid) === false) return true;
  }
  const stats = await lstat(path).catch(() => null);
  return !!stats && Date.now() - stats.mtimeMs > staleMs;
}

/** `false` only when the pid surely does not exist (ESRCH); `true` or `undefined` (cannot tell: Deno without --allow-run). */
function _alive(pid: number): boolean | undefined {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ESRCH" ? false : code === "EPERM" ? true : undefined;
  }
}

/** FNV-1a, 32 bits, as 8 hex digits: a short stable tag of the host name. */
function _fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, "0");
}
