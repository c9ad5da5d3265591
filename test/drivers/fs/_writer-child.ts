// Child process of the "write killed halfway" test: streams a large value into the fs driver and reports progress
// on stdout, so that the parent can SIGKILL it in the middle of the write.
// Usage: node --import jiti/register test/drivers/fs/_writer-child.ts <base> <key>
import fsDriver from "../../../src/drivers/fs/index.ts";
import { MiB, generatedStream } from "../_streams.ts";

const [base, key] = process.argv.slice(2) as [string, string];
const source = generatedStream(4096 * MiB, { chunkSize: 256 * 1024 });
const reader = source.stream.getReader();
let written = 0;
let reported = false;
// Slow after the first 8 MiB, so the parent surely kills us mid-write rather than after the rename.
const slowed = new ReadableStream<Uint8Array>({
  async pull(controller) {
    const { done, value } = await reader.read();
    if (done) return controller.close();
    written += value.byteLength;
    if (written >= 8 * MiB) {
      if (!reported) process.stdout.write("writing\n");
      reported = true;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    controller.enqueue(value);
  },
});
await fsDriver({ base }).setItemRaw!(key, slowed, {});
process.stdout.write("finished\n");
