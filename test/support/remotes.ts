// The drivers of the drop-in matrix, each over a real store: unstorage's memory, lru-cache, fs, fs-lite, redis (the
// real redis-server), db0 over the real PostgreSQL (a server when one answers, else PGlite, PostgreSQL compiled to WASM,
// from npm), and this project's fs and S3 (over s3rver) drivers. `open(ns)`
// gives a driver over an empty namespace of its own; `close()` removes what it stored.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase, type Database } from "db0";
import pgliteConnector from "db0/connectors/pglite";
import postgresqlConnector from "db0/connectors/postgresql";
import pg from "pg";
import type { Driver } from "unstorage";
import db0Driver from "unstorage/drivers/db0";
import unstorageFs from "unstorage/drivers/fs";
import fsLite from "unstorage/drivers/fs-lite";
import lruCache from "unstorage/drivers/lru-cache";
import memory from "unstorage/drivers/memory";
import redisDriver from "unstorage/drivers/redis";
import fsDriver from "../../src/drivers/fs/index.ts";
import s3Driver from "../../src/drivers/s3/index.ts";
import { REDIS_URL, requireRedis } from "./redis.ts";
import { startS3rver, type S3rverHandle } from "./s3rver.ts";

export interface OpenedDriver {
  driver: Driver;
  /** Remove what the driver stored and let go of its connections. */
  close(): Promise<void>;
}

export interface MatrixDriver {
  name: string;
  open(ns: string): Promise<OpenedDriver>;
}

/** PostgreSQL of the tests: 127.0.0.1:5432, user postgres, database test, trust auth (override with PG_URL). */
export const PG_URL: string = process.env.PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

/**
 * Which PostgreSQL the db0 row runs on: the server at PG_URL when it answers; PGlite when none does and PG_URL was not
 * set (an explicit PG_URL that does not answer fails loudly), or always with QUEUED_STORAGE_TEST_PGLITE=1.
 */
export const POSTGRES: "server" | "pglite" = process.env.QUEUED_STORAGE_TEST_PGLITE === "1"
  ? "pglite"
  : process.env.PG_URL || (await requirePostgres(PG_URL, 2000).then(() => true, () => false))
    ? "server"
    : "pglite";

/** Throws a loud, actionable error unless PostgreSQL answers at `url`. */
export async function requirePostgres(url: string = PG_URL, timeoutMs = 5000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    throw new Error(
      `PostgreSQL not reachable at ${url} (${(error as Error).message}): start it with ` +
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (needs a database `test` that user " +
        "`postgres` reaches with trust auth), or point PG_URL at one",
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/** One value per test run, so parallel runs on the shared Redis and PostgreSQL never meet. */
const RUN = randomBytes(4).toString("hex");

async function tempDir(ns: string): Promise<{ base: string; close(): Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), `qs-matrix-${ns}-`));
  return { base, close: () => rm(base, { recursive: true, force: true }) };
}

let s3rver: Promise<S3rverHandle> | undefined;
let s3Users = 0;

// One in-memory PGlite for every namespace of the file (each in a table of its own), closed with the last of them.
let pglite: Database | undefined;
let pgliteUsers = 0;

async function openPostgres(): Promise<{ database: Database; release(): Promise<void> }> {
  if (POSTGRES === "server") {
    await requirePostgres();
    const database = createDatabase(postgresqlConnector({ url: PG_URL }));
    return { database, release: () => database.dispose() };
  }
  pgliteUsers++;
  const database = (pglite ??= createDatabase(pgliteConnector()));
  return {
    database,
    async release() {
      if (--pgliteUsers > 0) return;
      pglite = undefined;
      await database.dispose();
    },
  };
}

export const MATRIX_DRIVERS: MatrixDriver[] = [
  { name: "memory", open: async () => ({ driver: memory(), close: async () => {} }) },
  { name: "lru-cache", open: async () => ({ driver: lruCache({}), close: async () => {} }) },
  {
    name: "fs",
    async open(ns) {
      const dir = await tempDir(ns);
      const driver = unstorageFs({ base: dir.base });
      return { driver, close: async () => (await driver.dispose?.(), await dir.close()) };
    },
  },
  {
    name: "fs-lite",
    async open(ns) {
      const dir = await tempDir(ns);
      return { driver: fsLite({ base: dir.base }), close: dir.close };
    },
  },
  {
    name: "redis",
    async open(ns) {
      await requireRedis();
      const options = { url: REDIS_URL, base: `qs-matrix:${RUN}:${ns}` };
      const driver = redisDriver(options);
      return {
        driver,
        async close() {
          // The queued driver disposed `driver` (its connection is closed): clean up over a fresh one.
          const cleaner = redisDriver(options);
          await cleaner.clear?.("", {});
          await cleaner.dispose?.();
        },
      };
    },
  },
  {
    name: POSTGRES === "server" ? "db0 (PostgreSQL)" : "db0 (PGlite)",
    async open(ns) {
      const { database, release } = await openPostgres();
      const tableName = `qs_matrix_${RUN}_${ns.replace(/\W/g, "_")}`;
      const driver = db0Driver({ database, tableName });
      return {
        driver,
        async close() {
          await database.sql`DROP TABLE IF EXISTS {${tableName}}`;
          await release();
        },
      };
    },
  },
  {
    name: "queued-storage fs",
    async open(ns) {
      const dir = await tempDir(ns);
      const driver = fsDriver({ base: dir.base });
      return { driver, close: async () => (await driver.dispose?.(), await dir.close()) };
    },
  },
  {
    name: "queued-storage S3 (s3rver)",
    async open(ns) {
      // One s3rver for every namespace of the file (each under its own `base`), stopped with the last of them.
      s3Users++;
      const s3 = await (s3rver ??= startS3rver());
      const { endpoint, bucket, region, accessKeyId, secretAccessKey } = s3;
      const driver = s3Driver({ endpoint, bucket, region, accessKeyId, secretAccessKey, base: `${RUN}/${ns}` });
      return {
        driver,
        async close() {
          await driver.clear?.("", {});
          await driver.dispose?.();
          if (--s3Users === 0) {
            s3rver = undefined;
            await s3.stop();
          }
        },
      };
    },
  },
];
