import { close, fstat, open, read } from "node:fs";

/** What reading needs of an open file: positional reads, its size and mtime, and one close. */
export interface _ReadHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number; mtime: Date }>;
  /** Closes once every read in flight has finished; later calls return the same promise. */
  close(): Promise<void>;
}

/**
 * Opens `path` for reading over plain file descriptors. `fs/promises` FileHandles cost about twice the CPU per small
 * file (measured: 27–33 µs against 17–18 µs for open, fstat, read, close of 4 KiB), which showed when serving many
 * small files. What FileHandle does for safety is kept: close waits for reads in flight (a descriptor closed under a
 * read could be reused by another open and read from the wrong file), reads after close fail, and a handle dropped
 * without close has its descriptor closed when collected.
 */
export function _openForReading(path: string): Promise<_ReadHandle> {
  return new Promise((resolve, reject) => {
    open(path, "r", (error, fd) => (error ? reject(error) : resolve(_readHandle(fd))));
  });
}

// --- internal ---

const _leaked = new FinalizationRegistry<number>((fd) => close(fd, () => {}));

function _readHandle(fd: number): _ReadHandle {
  let pending = 0;
  let closing: Promise<void> | undefined;
  let closeNow: (() => void) | undefined;
  const handle: _ReadHandle = {
    read: (buffer, offset, length, position) =>
      _use((done) => read(fd, buffer, offset, length, position, (error, bytesRead) => done(error, { bytesRead }))),
    stat: () => _use((done) => fstat(fd, (error, stats) => done(error, stats))),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        _leaked.unregister(handle);
        closeNow = () => close(fd, (error) => (error ? reject(error) : resolve()));
        if (pending === 0) closeNow();
      });
      return closing;
    },
  };
  _leaked.register(handle, fd, handle);
  function _use<T>(start: (done: (error: Error | null, value: T) => void) => void): Promise<T> {
    if (closing) return Promise.reject(Object.assign(new Error("EBADF: the file was closed"), { code: "EBADF" }));
    pending++;
    return new Promise<T>((resolve, reject) => {
      start((error, value) => {
        if (--pending === 0) closeNow?.();
        if (error) reject(error);
        else resolve(value);
      });
    });
  }
  return handle;
}
