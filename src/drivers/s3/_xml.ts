// S3 answers in a small, fixed XML vocabulary; a few anchored regular expressions read it without a DOM
// parser (none exists on Workers or in Node), and every text node is entity-decoded.

export interface ListPage {
  keys: string[];
  isTruncated: boolean;
  nextToken?: string;
}

/** A ListObjectsV2 result page. */
export function parseListPage(xml: string): ListPage {
  const keys: string[] = [];
  for (const match of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const key = textOf(match[1]!, "Key");
    if (key !== undefined) keys.push(key);
  }
  return {
    keys,
    isTruncated: textOf(xml, "IsTruncated") === "true",
    nextToken: textOf(xml, "NextContinuationToken"),
  };
}

/** `Code` and `Message` of an S3 error body; nothing else, because AWS echoes signatures and key ids there. */
export function parseS3Error(xml: string): { code?: string; message?: string } {
  const error = /<Error>([\s\S]*?)<\/Error>/.exec(xml)?.[1];
  if (error === undefined) return {};
  const message = textOf(error, "Message");
  return { code: textOf(error, "Code"), message: message && message.length > 200 ? `${message.slice(0, 200)}…` : message };
}

/** The keys a DeleteObjects result reports as not deleted, with their codes. */
export function parseDeleteErrors(xml: string): { key: string; code: string }[] {
  return [...xml.matchAll(/<Error>([\s\S]*?)<\/Error>/g)].map((m) => ({
    key: textOf(m[1]!, "Key") ?? "",
    code: textOf(m[1]!, "Code") ?? "Unknown",
  }));
}

export function textOf(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match ? decodeXml(match[1]!) : undefined;
}

/** DeleteObjects request body, quiet mode: only failures come back. */
export function deleteObjectsXml(keys: string[]): string {
  const objects = keys.map((key) => `<Object><Key>${encodeXml(key)}</Key></Object>`).join("");
  return `<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>${objects}</Delete>`;
}

/** CompleteMultipartUpload request body; `etags[i]` belongs to part number `i + 1`. */
export function completeMultipartXml(etags: string[]): string {
  const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${encodeXml(etag)}</ETag></Part>`);
  return `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload>${parts.join("")}</CompleteMultipartUpload>`;
}

export function encodeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

export function decodeXml(text: string): string {
  return text.replace(/&(?:#x([0-9a-f]+)|#(\d+)|(amp|lt|gt|quot|apos));/gi, (entity, hex, dec, named) => {
    if (hex) return String.fromCodePoint(Number.parseInt(hex, 16));
    if (dec) return String.fromCodePoint(Number.parseInt(dec, 10));
    return XML_ENTITIES[(named as string).toLowerCase()] ?? entity;
  });
}

// --- internal ---

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
