// `npm test` runs this first (pretest). It provides what no npm package ships, so that `npm ci && npm test` is the
// whole recipe on a fresh machine (.ci/run runs exactly that):
// - Redis: when REDIS_URL is unset, nothing answers on 127.0.0.1:6379 and no `redis-server` is installed, it installs
//   Debian's redis-server (as root, with apt-get); test/support/global-setup.ts then starts one on a free port for the
//   run. Without root or apt it says what to do, and the Redis tests fail naming it.
// - The Nuxt 4 fixture (ensure-nuxt-fixture.mjs).
// Everything else comes from npm: Chromium (@sparticuz/chromium), PostgreSQL for the db0 row (PGlite when no server
// answers), Deno and Bun; the test video is committed.
import { spawnSync } from "node:child_process";
import { connect } from "node:net";

const redisAnswers = () =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: 6379, timeout: 1000 });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
const installed = (command) => spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;

if (!process.env.REDIS_URL && !(await redisAnswers()) && !installed("redis-server") && !installed("/usr/sbin/redis-server")) {
  const root = process.getuid?.() === 0;
  if (root && installed("apt-get")) {
    console.error("[pretest] redis-server is not installed: installing Debian's package (apt-get install redis-server)");
    const run = (args) => spawnSync("apt-get", args, { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (run(["update", "-qq"]).status !== 0 || run(["install", "-y", "-qq", "--no-install-recommends", "redis-server"]).status !== 0) {
      console.error("[pretest] apt-get could not install redis-server: the Redis tests will fail saying so");
    }
  } else {
    console.error(
      "[pretest] no Redis on 127.0.0.1:6379 and no redis-server installed: install it (`sudo apt-get install redis-server`, " +
        "`brew install redis`) and the tests start one on a free port, or set REDIS_URL",
    );
  }
}

await import("./ensure-nuxt-fixture.mjs");
