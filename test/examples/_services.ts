import type { QStashStandIn } from "../support/qstash-server.ts";
import type { S3rverHandle } from "../support/s3rver.ts";
import type { UpstashProxy } from "../support/upstash-proxy.ts";

/** The environment an example reads in production, pointing at the local stand-ins. */
export function servicesEnv(s3: S3rverHandle, qstash: QStashStandIn, upstash: UpstashProxy): Record<string, string> {
  return {
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    QSTASH_TOKEN: qstash.token,
    QSTASH_URL: qstash.url,
    QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: upstash.token,
  };
}

