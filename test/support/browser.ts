import { execFile } from "node:child_process";
import { access, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser } from "playwright-core";

// The one way a test starts Chromium: the system's /usr/bin/chromium when there is one, else the binary that
// @sparticuz/chromium ships inside its npm tarball (unpacked to the temp dir on first use), driven by playwright-core,
// headless, with the flags a closed network needs (no update checks, no QUIC, no sync) and a fresh profile each time.

const PACKAGE = join(import.meta.dirname, "../../node_modules/@sparticuz/chromium");
const SYSTEM_CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export interface LaunchedChromium extends Browser {
  /** Where the binary came from: "system" (/usr/bin/chromium) or "npm" (@sparticuz/chromium). */
  readonly source: "system" | "npm";
}

/**
 * A headless Chromium. playwright-core gives every launch a fresh user-data-dir of its own (a temp dir it removes on
 * close), so no profile outlives the browser.
 */
export async function launchChromium(): Promise<LaunchedChromium> {
  const system = await firstExisting(SYSTEM_CHROMIUM);
  const launch = async (): Promise<Browser> => {
    const { executablePath, env } = system ? { executablePath: system, env: {} } : await packagedChromium();
    return chromium
      .launch({ executablePath, headless: true, args: FLAGS, env: { ...process.env, ...env } as Record<string, string> })
      .catch((error: unknown) => {
        throw new Error(`Chromium did not start (${executablePath}): ${error instanceof Error ? error.message : String(error)}`);
      });
  };
  const browser = await launch().catch(async (error: unknown) => {
    if (system) throw error;
    // @sparticuz/chromium reuses <tmpdir>/chromium when it exists: a copy cut short by an interrupted run never starts.
    // Unpack it again, once.
    await rm(join(tmpdir(), "chromium"), { force: true });
    return launch();
  });
  return Object.assign(browser, { source: system ? ("system" as const) : ("npm" as const) });
}

// --- internal ---

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const path of paths) if (await access(path).then(() => true, () => false)) return path;
  return undefined;
}

/**
 * @sparticuz/chromium's binary, unpacked once. Built for Amazon Linux, it links only against what every glibc system
 * has, plus NSS; where the system lacks a library the package also ships (al2023.tar.br), that one is unpacked too and
 * put on LD_LIBRARY_PATH.
 */
async function packagedChromium(): Promise<{ executablePath: string; env: Record<string, string> }> {
  const { default: Chromium } = await import("@sparticuz/chromium");
  const executablePath = await Chromium.executablePath();
  const { stdout } = await promisify(execFile)("ldd", [executablePath]).catch(() => ({ stdout: "" }));
  if (!/not found/.test(stdout)) return { executablePath, env: {} };
  const { inflate } = (await import(join(PACKAGE, "build/esm/lambdafs.js"))) as { inflate(path: string): Promise<string> };
  const libs = await inflate(join(PACKAGE, "bin/al2023.tar.br"));
  return { executablePath, env: { LD_LIBRARY_PATH: [join(libs, "lib"), process.env["LD_LIBRARY_PATH"]].filter(Boolean).join(":") } };
}
