import { access } from "node:fs/promises";
import type { Browser } from "playwright-core";

// Chromium for browser tests: the system's when there is one, else the binary @sparticuz/chromium ships inside its
// npm tarball (unpacked to /tmp on first use), so a fresh machine with only the package registries can run them.

const SYSTEM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A headless Chromium driven by playwright-core; close it when done. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  let executablePath: string | undefined;
  for (const path of SYSTEM) {
    if (await access(path).then(() => true, () => false)) {
      executablePath = path;
      break;
    }
  }
  executablePath ??= await (await import("@sparticuz/chromium")).default.executablePath();
  return chromium.launch({ executablePath, args: FLAGS, headless: true });
}
