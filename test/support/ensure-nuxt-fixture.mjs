// `npm test` runs this first (pretest, through ensure-services.mjs): the Nuxt test needs Nuxt 4 and its Node 22 binary, which live in their own
// fixture with their own lock (test/fixtures/nuxt4), so that `npm ci && npm test` on a fresh machine installs them
// too. Installed only when missing or older than its lock, as .ci/run does. A failed install (no network) is reported
// and the suite runs on: the Nuxt test then fails saying what is missing, the others are unaffected.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const fixture = fileURLToPath(new URL("../fixtures/nuxt4/", import.meta.url));
const installed = `${fixture}node_modules/.package-lock.json`;
const fresh = existsSync(installed) && statSync(installed).mtimeMs >= statSync(`${fixture}package-lock.json`).mtimeMs;
if (!fresh) {
  console.error("[pretest] installing the Nuxt 4 fixture (test/fixtures/nuxt4, about 100 s the first time)");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["ci", "--prefix", fixture, "--no-audit", "--no-fund"], { stdio: "inherit" });
  if (result.status !== 0) console.error("[pretest] the Nuxt 4 fixture could not be installed: test/adapters/nuxt.test.ts will fail saying so");
}
