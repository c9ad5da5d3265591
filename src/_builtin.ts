/**
 * A Node built-in module through `process.getBuiltinModule` (Node 20.16+, Bun, Deno, workerd with nodejs_compat), or
 * `undefined` where the runtime has none. Looked up, never imported: files that use it stay free of `node:*`
 * specifiers, so bundlers keep them edge-safe.
 */
export function _builtin<T>(id: string): T | undefined {
  const lookup = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  return lookup?.call(globalThis.process, id) as T | undefined;
}
