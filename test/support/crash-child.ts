// A writer process that the crash test kills with SIGKILL in the middle of transfers.
// Usage: node --import jiti/register test/support/crash-child.ts <dir> <count>
import type { Driver } from "unstorage";
import fsDriver from "../../src/drivers/fs/index.ts";
import { createQueuedStorage, memoryQueue, storageFlags } from "../../src/index.ts";

const [dir, count] = process.argv.slice(2) as [string, string];

/** A remote that takes a while per write, so transfers are in flight when the kill lands. */
function slow(driver: Driver, ms: number): Driver {
  const upload = async (key: string): Promise<void> => {
    process.stdout.write(`${JSON.stringify({ upload: key })}\n`);
    await new Promise((resolve) => setTimeout(resolve, ms));
  };
  // Text values (setItem) are transferred with setItem, raw ones with setItemRaw: slow down both.
  return {
    ...driver,
    setItem: async (key, value, opts) => (await upload(key), driver.setItem!(key, value, opts)),
    setItemRaw: async (key, value, opts) => (await upload(key), driver.setItemRaw!(key, value, opts)),
  };
}

const storage = createQueuedStorage({
  local: fsDriver({ base: `${dir}/local` }),
  remote: slow(fsDriver({ base: `${dir}/remote` }), 30),
  flags: storageFlags(fsDriver({ base: `${dir}/state` })),
  queue: memoryQueue({ concurrency: 2 }),
  leaseMs: 1500,
});

for (let i = 0; i < Number(count); i++) {
  const key = `file:${i % 25}`; // overwrites too: later values must win after recovery
  const value = `value ${i} ${"x".repeat(i * 97)}`;
  await storage.setItem(key, value);
  process.stdout.write(`${JSON.stringify({ key, value })}\n`);
  await new Promise((resolve) => setTimeout(resolve, 2));
}
process.stdout.write("done\n");
await storage.drain();
