// The auto-imports a Nitro 2 / Nuxt server file sees (nitropack generates the same from h3 1 and nitropack/runtime),
// for the documentation blocks that are such files. Only these blocks get them: every other block must import
// what it uses.
import type * as h3 from "h3";
import type * as nitro from "nitropack/runtime";
import type { NitroConfig } from "nitropack/types";

declare global {
  const defineEventHandler: typeof h3.defineEventHandler;
  const getRouterParam: typeof h3.getRouterParam;
  const getRequestWebStream: typeof h3.getRequestWebStream;
  const setResponseHeader: typeof h3.setResponseHeader;
  const setResponseStatus: typeof h3.setResponseStatus;
  const createError: typeof h3.createError;
  const useStorage: typeof nitro.useStorage;
  const useRuntimeConfig: typeof nitro.useRuntimeConfig;
  const defineNitroPlugin: typeof nitro.defineNitroPlugin;
  const defineNitroConfig: (config: NitroConfig) => NitroConfig;
  /** Nuxt's config, reduced to the keys the recipe uses (Nuxt itself is installed only in the Nuxt fixture). */
  const defineNuxtConfig: (config: { compatibilityDate?: string; nitro?: NitroConfig; runtimeConfig?: Record<string, unknown> }) => unknown;
}
