// A process that takes storageFlags over a shared state directory and begins `count` writes of one key, printing one
// JSON line per generation (or the error that refused it), then `{"done":true}`; with `hold`, it then waits to be killed.
// Usage: node --import jiti/register test/support/flags-child.ts <dir> <count> [hold]
import fsDriver from "../../src/drivers/fs/index.ts";
import { storageFlags } from "../../src/index.ts";

const [dir, count, hold] = process.argv.slice(2) as [string, string, string | undefined];
const flags = storageFlags(fsDriver({ base: dir }));
try {
  for (let i = 0; i < Number(count); i++) {
    const { record } = await flags.begin("k", { delayed: false });
    process.stdout.write(`${JSON.stringify({ generation: record.generation })}\n`);
  }
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: (error as Error).message })}\n`);
}
process.stdout.write(`${JSON.stringify({ done: true })}\n`);
if (hold) await new Promise(() => setInterval(() => {}, 1000));
else await flags.dispose?.();
