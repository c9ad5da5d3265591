import { realpath as realpathCallback } from "node:fs";
import { lstat, realpath as realpathPromise } from "node:fs/promises";
import { dirname, join, sep } from "node:path";

/**
 * Symbolic-link containment. `base` itself may be a link (it is resolved once); below it no link is followed, not
 * even one pointing inside: a key's path must resolve to exactly `realpath(base)` joined with its segments. The
 * lexical check in `_paths.ts` keeps `..` out; this one keeps links out, so that a link planted inside the base can
 * never read, write, list or delete outside it. One `realpath` call per operation on an existing file.
 */
export function _linkGuard(root: () => string): (path: string, what: string) => Promise<void> {
  let realRoot: string | undefined;
  return async (path, what) => {
    const base = root();
    // Until the base exists there is nothing to follow; once it does, its real path is fixed for the driver's life.
    realRoot ??= (await realpath(base).catch(_missingAs(undefined))) ?? undefined;
    if (realRoot === undefined) return;
    // The deepest existing part of the path decides: what does not exist yet will be created as a plain directory.
    let current = path;
    for (;;) {
      const real = await realpath(current).catch(_missingAs(null));
      if (real !== null) {
        const expected = current === base ? realRoot : join(realRoot, current.slice(base.length + sep.length));
        if (real !== expected) {
          throw new Error(`${what}: the path crosses a symbolic link (${current.slice(base.length + 1) || "."} → ${real}); ` +
            "links below the base directory are not followed");
        }
        return;
      }
      // Missing to realpath but present to lstat: a dangling link, which a write or mkdir would follow. A plain entry
      // seen here was created by a concurrent write between the two calls: look at it again.
      const stats = await lstat(current).catch(() => null);
      if (stats?.isSymbolicLink()) {
        throw new Error(`${what}: the path crosses a dangling symbolic link (${current.slice(base.length + 1)}); ` +
          "links below the base directory are not followed");
      }
      if (stats) continue;
      if (current === base || dirname(current) === current) return;
      current = dirname(current);
    }
  };
}

/**
 * The callback form of the native realpath: the promise form costs about twice its main-thread time (measured: it was
 * a fifth of the serving handler's CPU for small files). Runtimes without `realpath.native` get the promise form.
 */
const _native = realpathCallback.native as typeof realpathCallback.native | undefined;

function realpath(path: string): Promise<string> {
  if (typeof _native !== "function") return realpathPromise(path);
  return new Promise((resolve, reject) => _native(path, (error, resolved) => (error ? reject(error) : resolve(resolved))));
}

function _missingAs<T>(value: T): (error: NodeJS.ErrnoException) => T {
  return (error) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return value;
    throw error;
  };
}
