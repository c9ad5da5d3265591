import type { Driver } from "unstorage";
import { _error } from "../_errors.ts";
import type { DriverSpec } from "../types.ts";

const _OWN_DRIVERS = new Set(["queued-storage/drivers/s3", "queued-storage/drivers/fs"]);

/** Check at construction that an option is a driver or a driver spec, naming the option when it is neither. */
export function _assertDriverOption(name: "local" | "remote", value: unknown): asserts value is Driver | DriverSpec {
  if (value === undefined || value === null) {
    throw _error(`missing required option \`${name}\`: an unstorage driver (e.g. fsDriver({ base })) or a driver spec`);
  }
  if (typeof value !== "object") {
    throw _error(`option \`${name}\` must be an unstorage driver or a driver spec, got ${typeof value}`);
  }
  const candidate = value as Partial<Driver> & { driver?: unknown };
  if (typeof candidate.driver === "string") return;
  const missing = (["hasItem", "getItem", "getKeys"] as const).filter((m) => typeof candidate[m] !== "function");
  if (missing.length > 0) {
    throw _error(
      `option \`${name}\` is not an unstorage driver: missing ${missing.map((m) => `${m}()`).join(", ")} ` +
        "(pass a driver such as fsDriver({ base }) or a spec such as { driver: \"fs\", base })",
    );
  }
}

/**
 * Resolve a driver spec by name, like Nitro resolves its storage mounts: our own drivers by their subpath,
 * unstorage's built-ins by their short name, anything else as a package whose default export is the factory.
 */
export async function _resolveDriver(name: "local" | "remote", value: Driver | DriverSpec): Promise<Driver> {
  if (typeof (value as DriverSpec).driver !== "string") return value as Driver;
  const { driver: id, ...options } = value as DriverSpec;
  const specifier = _OWN_DRIVERS.has(id) || id.includes("/") || id.startsWith("@") ? id : `unstorage/drivers/${id}`;
  let module: { default?: unknown };
  try {
    // A variable specifier keeps bundlers from pulling every driver (and node:fs) into edge builds.
    module = (await import(/* @vite-ignore */ specifier)) as { default?: unknown };
  } catch (cause) {
    throw _error(`option \`${name}\`: cannot import driver "${id}" (${specifier})`, { cause });
  }
  const factory = module.default;
  if (typeof factory !== "function") {
    throw _error(`option \`${name}\`: "${specifier}" has no default export that creates a driver`);
  }
  const driver = factory(options) as Driver;
  _assertDriverOption(name, driver);
  return driver;
}
