/**
 * Run functions one after another per key, in call order. A failure does not break the chain; an idle key costs
 * nothing (its entry is dropped when its last function settles). Written here rather than taken from a mutex package:
 * it is ten lines, edge-safe, and the two users need exactly this and nothing more.
 */
export type _Serial = <R>(key: string, fn: () => Promise<R>) => Promise<R>;

export function _serial(): _Serial {
  const tails = new Map<string, Promise<unknown>>();
  return <R>(key: string, fn: () => Promise<R>): Promise<R> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => {});
    tails.set(key, tail);
    void tail.then(() => tails.get(key) === tail && tails.delete(key));
    return run;
  };
}
