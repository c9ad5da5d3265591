import { afterAll, beforeAll, describe, expect, it } from "vitest";
import s3Driver, { type S3DriverOptions } from "../../src/drivers/s3.ts";
import { startS3rver, type S3rverHandle } from "../support/s3rver.ts";
import { testDriver } from "../support/unstorage-test-driver.ts";

let server: S3rverHandle;
beforeAll(async () => {
  server = await startS3rver();
});
afterAll(async () => {
  await server?.stop();
});

const connection = (extra: Partial<S3DriverOptions> = {}): S3DriverOptions => ({
  endpoint: server.endpoint,
  bucket: server.bucket,
  region: server.region,
  accessKeyId: server.accessKeyId,
  secretAccessKey: server.secretAccessKey,
  ...extra,
});

describe("drivers: s3 (s3rver, signed requests)", () => {
  testDriver({ driver: () => s3Driver(connection({ base: "contract" })) });
});
