// Browser-facing URLs of objects: presigned GET URLs (SigV4 query signing) or a public base (public bucket, CDN).
import { createError } from "../../_errors.ts";
import { objectUrl, type S3Context } from "./_request.ts";
import { encodeRfc3986, presign } from "./_sign.ts";

/** Options of a browser-facing object URL (`getInstance().getUrl(key, options)`). */
export interface S3UrlOptions {
  /**
   * Seconds a presigned URL stays valid: 1 to 604,800 (7 days, S3's limit). Default: the driver's
   * `presignExpiresIn` (3600). Ignored with `publicUrl`.
   */
  expiresIn?: number;
  /** `response-content-type` override S3 answers with (presigned URLs only). @example "image/png" */
  contentType?: string;
  /**
   * `response-content-disposition` override (presigned URLs only).
   * @example 'attachment; filename="report.pdf"'
   */
  contentDisposition?: string;
}

/** What the driver's URL options resolve to. */
export interface S3UrlSettings {
  publicUrl?: string;
  expiresIn: number;
}

const MAX_EXPIRES = 604_800;

/** Validate the URL options of the driver (at first use, like every other option). */
export function urlSettings(driver: string, options: { publicUrl?: string; presignExpiresIn?: number }): S3UrlSettings {
  if (options.publicUrl !== undefined) {
    try {
      new URL(options.publicUrl);
    } catch {
      throw createError(driver, `Option \`publicUrl\` is not an absolute URL: ${JSON.stringify(options.publicUrl)}.`);
    }
  }
  return { publicUrl: options.publicUrl?.replace(/\/+$/, ""), expiresIn: expiresIn(driver, options.presignExpiresIn ?? 3600) };
}

/**
 * The URL a browser can GET an object at. With a `publicUrl`: that base plus the encoded object key, no signature.
 * Otherwise a presigned GetObject URL (`presign`), carrying the response-header overrides as signed query parameters.
 */
export async function presignedUrl(
  ctx: S3Context,
  settings: S3UrlSettings,
  objectKey: string,
  options: S3UrlOptions = {},
): Promise<string> {
  if (settings.publicUrl) return `${settings.publicUrl}/${objectKey.split("/").map(encodeRfc3986).join("/")}`;
  const url = new URL(objectUrl(ctx, objectKey));
  url.searchParams.set("X-Amz-Expires", String(expiresIn(ctx.driver, options.expiresIn ?? settings.expiresIn)));
  if (options.contentType) url.searchParams.set("response-content-type", options.contentType);
  if (options.contentDisposition) url.searchParams.set("response-content-disposition", options.contentDisposition);
  return presign(ctx.client, url);
}

// --- internal ---

function expiresIn(driver: string, seconds: number): number {
  if (!(Number.isInteger(seconds) && seconds >= 1 && seconds <= MAX_EXPIRES)) {
    throw createError(driver, `\`expiresIn\` must be a whole number of seconds from 1 to ${MAX_EXPIRES} (7 days), got ${seconds}.`);
  }
  return seconds;
}
