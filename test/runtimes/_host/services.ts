import { randomBytes } from "node:crypto";
import { requireRedis } from "../../support/redis.ts";
import { startS3rver, type S3rverHandle } from "../../support/s3rver.ts";
import { startUpstashProxy, type UpstashProxy } from "../../support/upstash-proxy.ts";
import type { SuiteEnv } from "../_shared/suite.ts";

export interface SuiteServices {
  env: SuiteEnv;
  s3: S3rverHandle;
  upstash: UpstashProxy;
  stop(): Promise<void>;
}

/**
 * What every runtime's run of the shared suite needs on loopback: s3rver (real SigV4) and the Upstash REST proxy over
 * the real redis-server. Fails loudly when redis-server is not running.
 */
export async function startSuiteServices(runtime: string): Promise<SuiteServices> {
  await requireRedis();
  const [s3, upstash] = await Promise.all([startS3rver({ bucket: `suite-${runtime}` }), startUpstashProxy()]);
  const env: SuiteEnv = {
    runtime,
    runId: `${runtime}-${randomBytes(4).toString("hex")}`,
    s3: {
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    },
    upstash: { url: upstash.url, token: upstash.token },
  };
  return {
    env,
    s3,
    upstash,
    async stop() {
      await Promise.all([s3.stop(), upstash.stop()]);
    },
  };
}
