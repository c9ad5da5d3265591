import { build, type Metafile, type Plugin } from "esbuild";
import { fileURLToPath } from "node:url";

/** Export conditions of each edge target, most specific first, as their own bundlers use them. */
export const CONDITIONS: Record<"workerd" | "edge-light" | "browser", string[]> = {
  // wrangler: workerd, worker, browser
  workerd: ["workerd", "worker", "browser"],
  // Next.js / Vercel: edge-light, worker, browser
  "edge-light": ["edge-light", "worker", "browser"],
  browser: ["browser"],
};

export interface BundleOptions {
  conditions: string[];
  format: "esm" | "iife";
  /** Exact import specifiers resolved to absolute paths, e.g. `queued-storage/qstash` → this repository's source. */
  aliases?: Record<string, string>;
}

export interface Bundle {
  code: string;
  metafile: Metafile;
}

/**
 * Bundle a TypeScript entry of this repository for an edge runtime: browser platform (no Node built-ins are
 * resolved, they stay external and fail the run or the guard), the given export conditions, everything else inlined.
 */
export async function bundleFor(entry: string, options: BundleOptions): Promise<Bundle> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../../../${entry}`, import.meta.url))],
    absWorkingDir: fileURLToPath(new URL("../../../", import.meta.url)),
    bundle: true,
    write: false,
    metafile: true,
    format: options.format,
    platform: "browser",
    conditions: options.conditions,
    mainFields: ["browser", "module", "main"],
    target: "es2022",
    logLevel: "silent",
    plugins: options.aliases ? [_aliasPlugin(options.aliases)] : [],
  });
  return { code: result.outputFiles[0]!.text, metafile: result.metafile };
}

function _aliasPlugin(aliases: Record<string, string>): Plugin {
  return {
    name: "exact-aliases",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => (args.path in aliases ? { path: aliases[args.path]! } : undefined));
    },
  };
}
