/** A catch handler turning "no such file" (also "a parent is a file" and "is a directory") into `value`. */
export function missingAs<T>(value: T): (error: NodeJS.ErrnoException) => T {
  return (error) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR" || error.code === "EISDIR") return value;
    throw error;
  };
}
