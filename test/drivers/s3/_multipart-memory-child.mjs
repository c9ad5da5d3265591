// One multipart upload in a fresh process, against the bundled driver (never the test runner's module graph), with
// RSS sampled every 5 ms. Prints one JSON line. Usage:
//   node --expose-gc _multipart-memory-child.mjs <driver.mjs> <json: { s3, size, chunk, partSize, partConcurrency }>
// `chunk`: "tiny" (fresh 512-byte chunks), "huge" (fresh 24 MiB chunks) or "bytes" (a byte stream read BYOB).
const [driverPath, json] = process.argv.slice(2);
const { s3, size, chunk, partSize, partConcurrency } = JSON.parse(json);
const { default: s3Driver } = await import(driverPath);

const CHUNKS = { tiny: 512, huge: 24 * 1024 * 1024 };

function source() {
  let produced = 0;
  if (chunk === "bytes") {
    return new ReadableStream({
      type: "bytes",
      pull(controller) {
        const request = controller.byobRequest;
        if (produced >= size) {
          controller.close();
          request.respond(0);
          return;
        }
        const n = Math.min(request.view.byteLength, size - produced);
        request.view.fill(produced & 0xff, 0, n);
        produced += n;
        request.respond(n);
      },
    });
  }
  const chunkSize = CHUNKS[chunk];
  return new ReadableStream(
    {
      pull(controller) {
        if (produced >= size) return controller.close();
        const bytes = new Uint8Array(Math.min(chunkSize, size - produced)).fill(produced & 0xff);
        produced += bytes.byteLength;
        controller.enqueue(bytes);
      },
    },
    { highWaterMark: 0 },
  );
}

const driver = s3Driver({ ...s3, partSize, partConcurrency });
// Load what does not depend on the size (Node's fetch, the signing keys) before the baseline.
await driver.hasItem("warm-up", {});
globalThis.gc?.();
await new Promise((resolve) => setTimeout(resolve, 50));
const start = process.memoryUsage.rss();
let peak = start;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
const started = performance.now();
await driver.setItemRaw("memory.bin", source(), {});
const ms = performance.now() - started;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage.rss());
const stored = (await driver.getMeta("memory.bin", {}))?.size;
await driver.removeItem("memory.bin", {});
process.stdout.write(`${JSON.stringify({ start, peak, growth: peak - start, ms, stored })}\n`);
