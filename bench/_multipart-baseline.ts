import { AwsClient } from "aws4fetch";
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { ChildS3 } from "./_rss.ts";

/**
 * A hand-written multipart upload of a file: the same part size, parts in flight and signed part payloads
 * (x-amz-content-sha256) as our S3 driver, but reading parts with positional reads and hashing them with
 * node:crypto. It isolates what the multipart protocol itself costs on the stand-in from what the library adds.
 */
export async function multipartUpload(source: string, s3: ChildS3, key: string, partSize: number, inFlight: number): Promise<number> {
  const client = new AwsClient({ ...s3, service: "s3", retries: 0 });
  const url = `${s3.endpoint}/${s3.bucket}/${key}`;
  const created = await client.fetch(`${url}?uploads=`, { method: "POST" });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())?.[1];
  if (!created.ok || !uploadId) throw new Error(`CreateMultipartUpload answered ${created.status}`);
  const file = await open(source, "r");
  try {
    const size = (await file.stat()).size;
    const count = Math.max(1, Math.ceil(size / partSize));
    const etags: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        const length = Math.min(partSize, size - index * partSize);
        const part = Buffer.allocUnsafe(length);
        await file.read(part, 0, length, index * partSize);
        const hash = createHash("sha256").update(part).digest("hex");
        const response = await client.fetch(`${url}?partNumber=${index + 1}&uploadId=${encodeURIComponent(uploadId)}`, {
          method: "PUT",
          body: part,
          headers: { "x-amz-content-sha256": hash },
        });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`UploadPart ${index + 1} answered ${response.status}`);
        etags[index] = response.headers.get("etag") ?? "";
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
    const body = `<CompleteMultipartUpload>${etags
      .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
      .join("")}</CompleteMultipartUpload>`;
    const completed = await client.fetch(`${url}?uploadId=${encodeURIComponent(uploadId)}`, { method: "POST", body });
    const answer = await completed.text();
    if (!completed.ok || answer.includes("<Error>")) throw new Error(`CompleteMultipartUpload failed: ${answer}`);
    return size;
  } finally {
    await file.close();
  }
}
