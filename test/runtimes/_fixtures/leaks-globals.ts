// Guard fixture: Node globals used by our own code, guarded or not (ours must not use them at all).
export const debug: string | undefined = typeof process === "undefined" ? undefined : process.env.DEBUG;
export function encode(text: string): string {
  return Buffer.from(text).toString("base64");
}
