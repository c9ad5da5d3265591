// A writer process that the crash test kills with SIGKILL between a write's intent and its local write.
// Usage: node --import jiti/register test/support/ghost-child.ts <dir>
// Prints {"acked":key} per acknowledged write, {"transferred":true} once those are on the remote, then
// {"putting":"ghost"} when the intent of "ghost" is recorded and its local write has begun (it never finishes).
import type { Driver } from "unstorage";
import fsDriver from "../../src/drivers/fs/index.ts";
import { createQueuedStorage, storageFlags } from "../../src/index.ts";

const [dir] = process.argv.slice(2) as [string];
const print = (event: object): boolean => process.stdout.write(`${JSON.stringify(event)}\n`);

/** The local driver, except that the write of "ghost" announces itself and then hangs: the kill lands there. */
function hangingOn(key: string, driver: Driver): Driver {
  return {
    ...driver,
    async setItem(k, value, opts) {
      if (k !== key) return driver.setItem!(k, value, opts);
      print({ putting: k });
      await new Promise(() => {});
    },
  };
}

const storage = createQueuedStorage({
  local: hangingOn("ghost", fsDriver({ base: `${dir}/local` })),
  remote: fsDriver({ base: `${dir}/remote` }),
  flags: storageFlags(fsDriver({ base: `${dir}/state` })),
  leaseMs: 200,
});
for (const key of ["a", "b"]) {
  await storage.setItem(key, `value of ${key}`);
  print({ acked: key });
}
await storage.drain();
print({ transferred: true });
await storage.setItem("ghost", "never stored");
