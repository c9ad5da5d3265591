import { afterAll, beforeAll, describe, expect, it } from "vitest";
import s3Driver, { type S3DriverOptions } from "../../../src/drivers/s3/index.ts";
import { startS3rver, type S3rverHandle } from "../../support/s3rver.ts";

// Conditional writes (issue 9), against the stand-in that enforces them as AWS documents:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
let server: S3rverHandle;
beforeAll(async () => {
  server = await startS3rver({ bucket: "conditional" });
});
afterAll(async () => {
  await server?.stop();
});

const MULTIPART = { partSize: 5 * 1024 * 1024, multipartThreshold: 5 * 1024 * 1024 };
const driver = (extra: Partial<S3DriverOptions> = {}) =>
  s3Driver({
    endpoint: server.endpoint,
    bucket: server.bucket,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    retries: 0,
    ...extra,
  });
const bytes = (size: number, fill: number): Uint8Array => new Uint8Array(size).fill(fill);
/** What a write rejected with. */
const failure = (write: unknown): Promise<unknown> => Promise.resolve(write).then(() => undefined, (error: unknown) => error);
const text = async (value: unknown): Promise<string> => new TextDecoder().decode(value as Uint8Array);

describe("S3 driver conditional writes", () => {
  it("declares conditionalWrites; If-None-Match: * creates once, then fails with 412 and leaves the object as it was", async () => {
    const s3 = driver();
    expect((s3.flags as { conditionalWrites?: boolean }).conditionalWrites).toBe(true);
    await s3.setItemRaw!("once.txt", new TextEncoder().encode("first"), { ifNoneMatch: "*", meta: { generation: "7" } });
    const meta = await s3.getMeta!("once.txt", {});
    expect(meta).toMatchObject({ generation: "7", etag: expect.stringMatching(/^".+"$/) });
    const error = await failure(s3.setItemRaw!("once.txt", new TextEncoder().encode("second"), { ifNoneMatch: "*" }));
    expect(error).toMatchObject({ status: 412, code: "PreconditionFailed", operation: "PutObject" });
    expect(await text(await s3.getItemRaw!("once.txt", {}))).toBe("first");
  });

  it("If-Match commits over the expected ETag only; a missing key answers 404 NoSuchKey", async () => {
    const s3 = driver();
    await s3.setItem!("match.txt", "v1", {});
    const { etag } = (await s3.getMeta!("match.txt", {}))!;
    await s3.setItem!("match.txt", "v2", { ifMatch: etag, meta: { generation: "2" } });
    expect(await s3.getItem!("match.txt", {})).toBe("v2");
    expect(await failure(s3.setItem!("match.txt", "v3", { ifMatch: etag }))).toMatchObject({ status: 412 });
    expect(await s3.getItem!("match.txt", {})).toBe("v2");
    expect(await failure(s3.setItem!("absent.txt", "x", { ifMatch: etag }))).toMatchObject({ status: 404, code: "NoSuchKey" });
    expect(await s3.hasItem("absent.txt", {})).toBe(false);
  });

  it("CompleteMultipartUpload honours the same preconditions; metadata set at creation travels with the object", async () => {
    const s3 = driver(MULTIPART);
    const big = bytes(5 * 1024 * 1024 + 10, 1);
    await s3.setItemRaw!("big.bin", big, { ifNoneMatch: "*", meta: { generation: "1" } });
    const meta = (await s3.getMeta!("big.bin", {}))!;
    expect(meta).toMatchObject({ generation: "1", size: big.byteLength });
    const error = await failure(s3.setItemRaw!("big.bin", bytes(5 * 1024 * 1024 + 10, 2), { ifNoneMatch: "*" }));
    expect(error).toMatchObject({ status: 412, code: "PreconditionFailed" });
    expect(String((error as Error).message)).toMatch(/CompleteMultipartUpload/);
    expect(((await s3.getItemRaw!("big.bin", {})) as Uint8Array)[0]).toBe(1);
    await s3.setItemRaw!("big.bin", bytes(5 * 1024 * 1024 + 10, 3), { ifMatch: meta.etag as string, meta: { generation: "2" } });
    expect(await s3.getMeta!("big.bin", {})).toMatchObject({ generation: "2" });
    expect(((await s3.getItemRaw!("big.bin", {})) as Uint8Array)[0]).toBe(3);
  }, 60_000);

  it("is atomic per key: of 8 concurrent creates with If-None-Match: *, exactly one wins and the object is its bytes", async () => {
    const s3 = driver();
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => s3.setItem!("race.txt", `writer ${i}`, { ifNoneMatch: "*" })),
    );
    const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ status: 412 });
    expect(await s3.getItem!("race.txt", {})).toBe(`writer ${winners[0]}`);
  });
});
