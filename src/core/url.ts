// url(key), and the file handler's redirects: the tier that holds the key's current generation decides where a
// browser fetches it.
import type { Driver } from "unstorage";
import { _error, _messageOf } from "../_errors.ts";
import type { _Context } from "./context.ts";
import type { FlagRecord } from "../contracts.ts";
import type { UrlContext, UrlOption, UrlOptions } from "../types.ts";

/** A remote driver instance that can hand out browser URLs (our S3 driver: presigned or `publicUrl`). */
interface _UrlInstance {
  getUrl(key: string, options?: UrlOptions): string | Promise<string>;
}

/** The URL of `key` on the tier the record names: remote once the key is `remote`, local otherwise. */
export async function _urlOf(ctx: _Context, key: string, record: FlagRecord | null, options: UrlOptions = {}): Promise<string> {
  const generation = record?.generation ?? 0;
  if (record?.state !== "remote") {
    const { localUrl } = ctx.options;
    if (!localUrl) {
      throw _error(`url("${key}"): the key is on the local tier, which has no URL: set localUrl (e.g. "/files/", the route of createFileHandler)`, { key, retryable: false });
    }
    return _fromOption(localUrl, key, { tier: "local", generation, options });
  }
  return _remoteUrl(ctx, key, generation, options);
}

/** The remote tier's URL of `key`: option `remoteUrl` when set, else the remote driver's `getUrl`. */
export async function _remoteUrl(ctx: _Context, key: string, generation: number, options: UrlOptions = {}): Promise<string> {
  const { remoteUrl } = ctx.options;
  if (remoteUrl) return _fromOption(remoteUrl, key, { tier: "remote", generation, options });
  const { remote } = await ctx.tiers();
  const instance = _urlInstance(remote);
  if (!instance) {
    throw _error(`url("${key}"): the key is on the remote tier, and the remote has no URL: set remoteUrl (or use a remote driver with getUrl, such as queued-storage/drivers/s3)`, { key, retryable: false });
  }
  try {
    return await instance.getUrl(key, options);
  } catch (cause) {
    throw _error(`url("${key}"): the remote driver could not make a URL: ${_messageOf(cause)}`, { key, cause });
  }
}

// --- internal ---

/** A key as a URL path: `a:b c` → `a/b%20c`. */
function _urlPath(key: string): string {
  return key.split(":").map(encodeURIComponent).join("/");
}

async function _fromOption(option: UrlOption, key: string, context: UrlContext): Promise<string> {
  if (typeof option === "function") return option(key, context);
  return `${option.endsWith("/") ? option : `${option}/`}${_urlPath(key)}`;
}

function _urlInstance(driver: Driver): _UrlInstance | undefined {
  const instance = driver.getInstance?.() as Partial<_UrlInstance> | undefined;
  return typeof instance?.getUrl === "function" ? (instance as _UrlInstance) : undefined;
}
