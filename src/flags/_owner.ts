import type { Driver } from "unstorage";
import { _builtin } from "../_builtin.ts";
import { _error } from "../_errors.ts";

// storageFlags serializes transitions in this process's memory, so two live instances over one state (two processes
// of a PM2 cluster, two containers on one volume, two stores in one process) would interleave read-modify-write
// cycles and hand out the same generations. Instead of pretending, the first instance owns the state: it records
// itself in an owner record, renewed while it lives, and a second live instance is refused at its first write.

/** How long an owner record holds without renewal: a crashed owner on another host is taken over after this. */
const OWNER_TTL_MS = 30_000;
const HEARTBEAT_MS = 10_000;

interface _OwnerRecord {
  id: string;
  pid?: number;
  host?: string;
  until: number;
}

/** Owners alive in this process: a record with our pid but an id not here was left by an earlier process. */
const _liveOwners = new Set<string>();

export interface _Ownership {
  /** Resolves once this instance owns the state; rejects, naming upstashFlags, when another live instance does. */
  acquire(): Promise<void>;
  release(): Promise<void>;
}

/** Ownership of the state kept under `key` in `driver`. */
export function _ownership(driver: Driver, key: string): _Ownership {
  const me: _OwnerRecord = { id: crypto.randomUUID(), pid: _pid(), host: _host(), until: 0 };
  let acquired: Promise<void> | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let lost: string | undefined;
  const exclusive = (driver.flags as { exclusiveCreate?: boolean } | undefined)?.exclusiveCreate === true;

  const read = async (): Promise<_OwnerRecord | null> => {
    const raw = await driver.getItem(key, {});
    if (raw === null || raw === undefined) return null;
    try {
      return (typeof raw === "string" ? JSON.parse(raw) : raw) as _OwnerRecord;
    } catch {
      return null;
    }
  };
  const write = (create: boolean): Promise<unknown> => {
    me.until = Date.now() + OWNER_TTL_MS;
    return Promise.resolve(driver.setItem!(key, JSON.stringify(me), create && exclusive ? { ifNoneMatch: "*" } : {}));
  };
  const refuse = (other: _OwnerRecord): Error =>
    _error(
      `storageFlags: the state under "${key}" is in use by another live instance (pid ${other.pid ?? "?"} on ` +
        `${other.host ?? "another host"}); storageFlags is for one process. For several processes or instances ` +
        "sharing state, use upstashFlags() from queued-storage/upstash",
      { retryable: false },
    );

  async function take(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await read();
      if (current && current.id !== me.id && _alive(current, me)) throw refuse(current);
      // Free or left behind by a dead owner: take it. Create-only where the driver can (two takers: one wins).
      if (current && exclusive) await driver.removeItem?.(key, {});
      try {
        await write(true);
      } catch (error) {
        if ((error as { status?: number }).status === 412) continue; // another instance created it first: look again
        throw error;
      }
      const check = await read();
      if (check?.id === me.id) return _start();
      if (check && _alive(check, me)) throw refuse(check);
    }
    throw _error(`storageFlags: could not take the state under "${key}": other instances keep taking it`);
  }

  function _start(): void {
    _liveOwners.add(me.id);
    timer = setInterval(() => {
      void read().then(
        (current) => (current?.id === me.id ? write(false) : (lost = current ? `pid ${current.pid} on ${current.host}` : "nobody")),
        () => {}, // unreachable for a moment: the TTL decides
      );
    }, HEARTBEAT_MS);
    (timer as { unref?: () => void }).unref?.();
  }

  return {
    acquire() {
      if (lost) return Promise.reject(_error(`storageFlags: another instance (${lost}) took over the state under "${key}"; use upstashFlags() for state shared by several instances`, { retryable: false }));
      return (acquired ??= take().catch((error) => {
        acquired = undefined;
        throw error;
      }));
    },
    async release() {
      clearInterval(timer);
      _liveOwners.delete(me.id);
      if (!acquired) return;
      acquired = undefined;
      if ((await read().catch(() => null))?.id === me.id) await driver.removeItem?.(key, {});
    },
  };
}

/** Whether the instance that wrote `owner` may still be alive, judged from `me`'s host and process. */
function _alive(owner: _OwnerRecord, me: _OwnerRecord): boolean {
  if (owner.until <= Date.now()) return false;
  if (!owner.host || owner.host !== me.host || owner.pid === undefined) return true;
  // Same host: a pid is either ours (alive only if that owner is one of this process's live instances) or another's.
  if (owner.pid === me.pid) return _liveOwners.has(owner.id);
  const kill = (globalThis as { process?: { kill?: (pid: number, signal: number) => void } }).process?.kill;
  if (!kill) return true;
  try {
    kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

function _pid(): number | undefined {
  return (globalThis as { process?: { pid?: number } }).process?.pid;
}

function _host(): string | undefined {
  return _builtin<{ hostname(): string }>("node:os")?.hostname();
}
