import type { Driver } from "unstorage";

/**
 * A driver made to feel far away: every call waits `latencyMs`, and streamed writes are paced to `bytesPerSecond`.
 * Keeps the wrapped driver's stream support, so the transfer still streams end to end.
 */
export function farAway(
  driver: Driver,
  options: { latencyMs: number; bytesPerSecond: number; onBytes?: (key: string, sent: number) => void },
): Driver {
  const { latencyMs, bytesPerSecond } = options;
  const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  const paced = (key: string, stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> => {
    const start = performance.now();
    let sent = 0;
    return stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        async transform(chunk, controller) {
          sent += chunk.length;
          options.onBytes?.(key, sent);
          const due = (sent / bytesPerSecond) * 1000 - (performance.now() - start);
          if (due > 1) await wait(due);
          controller.enqueue(chunk);
        },
      }),
    );
  };
  return {
    ...driver,
    async hasItem(key, opts) {
      await wait(latencyMs);
      return driver.hasItem(key, opts);
    },
    async getItem(key, opts) {
      await wait(latencyMs);
      return driver.getItem(key, opts);
    },
    async getItemRaw(key, opts) {
      await wait(latencyMs);
      return driver.getItemRaw!(key, opts);
    },
    async setItemRaw(key, value, opts) {
      await wait(latencyMs);
      return driver.setItemRaw!(key, value instanceof ReadableStream ? paced(key, value) : value, opts);
    },
  };
}

/** A stream of `size` bytes made on the fly: never held in memory as a whole. */
export function generatedStream(size: number, chunkSize: number = 256 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close();
      const length = Math.min(chunkSize, size - sent);
      controller.enqueue(new Uint8Array(length).fill(sent % 251));
      sent += length;
    },
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** `[##########..........]  50% 24.0 MiB of 48.0 MiB` */
export function progressBar(bytes: number, total: number, width = 20): string {
  const share = total > 0 ? Math.min(1, bytes / total) : 0;
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${formatBytes(bytes)} of ${formatBytes(total)}`;
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}
