import { connect, type Socket } from "node:net";

/** A RESP2 error reply (`-ERR …`), kept apart from values so it is never base64-encoded. */
export class RespError {
  constructor(readonly message: string) {}
}

/** A RESP2 reply: bulk and simple strings stay Buffers so binary values survive. */
export type RespValue = Buffer | number | null | RespError | RespValue[];

export type RespArg = string | Buffer;

/** `*N\r\n$len\r\n<bytes>\r\n…`: every argument goes as a bulk string. */
export function encodeCommand(args: readonly RespArg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? Buffer.from(arg, "utf8") : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/** Parses one reply at `offset`; `undefined` when the buffer does not hold all of it yet. */
function parseAt(buf: Buffer, offset: number): [RespValue, number] | undefined {
  const eol = buf.indexOf("\r\n", offset);
  if (eol < 0) return undefined;
  const line = buf.subarray(offset + 1, eol);
  const next = eol + 2;
  switch (buf[offset]) {
    case 0x2b: // '+'
      return [Buffer.from(line), next];
    case 0x2d: // '-'
      return [new RespError(line.toString("utf8")), next];
    case 0x3a: // ':'
      return [Number(line.toString("ascii")), next];
    case 0x24: {
      // '$'
      const length = Number(line.toString("ascii"));
      if (length < 0) return [null, next];
      if (buf.length < next + length + 2) return undefined;
      return [Buffer.from(buf.subarray(next, next + length)), next + length + 2];
    }
    case 0x2a: {
      // '*'
      const count = Number(line.toString("ascii"));
      if (count < 0) return [null, next];
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const parsed = parseAt(buf, at);
        if (!parsed) return undefined;
        items.push(parsed[0]);
        at = parsed[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`RESP protocol error: unexpected byte ${buf[offset]} at ${offset}`);
  }
}

/** One TCP connection to Redis; replies are matched to requests in order (RESP is FIFO per connection). */
export interface RespConnection {
  /** Writes all commands in one write and resolves with their replies, in order. */
  send(commands: readonly (readonly RespArg[])[]): Promise<RespValue[]>;
  close(): void;
}

export interface RedisAddress {
  host: string;
  port: number;
  password?: string;
  username?: string;
  db?: number;
}

export function parseRedisUrl(url: string): RedisAddress {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:") throw new Error(`only redis:// URLs are supported, got ${parsed.protocol}`);
  const address: RedisAddress = { host: parsed.hostname || "127.0.0.1", port: Number(parsed.port || 6379) };
  if (parsed.password) address.password = decodeURIComponent(parsed.password);
  if (parsed.username) address.username = decodeURIComponent(parsed.username);
  const db = parsed.pathname.slice(1);
  if (db) address.db = Number(db);
  return address;
}

/** Connects, authenticates and selects the database of `url`. */
export async function connectResp(url: string, timeoutMs = 2000): Promise<RespConnection> {
  const address = parseRedisUrl(url);
  const socket: Socket = connect({ host: address.host, port: address.port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out connecting to ${address.host}:${address.port}`));
    }, timeoutMs);
    socket.once("connect", () => (clearTimeout(timer), resolve()));
    socket.once("error", (error) => (clearTimeout(timer), reject(error)));
  });

  const waiting: Array<{ count: number; replies: RespValue[]; resolve(v: RespValue[]): void; reject(e: Error): void }> = [];
  let buffer: Buffer = Buffer.alloc(0);
  let failure: Error | undefined;
  const failAll = (error: Error): void => {
    failure ??= error;
    for (const entry of waiting.splice(0)) entry.reject(failure);
  };
  socket.on("data", (chunk: Buffer) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    let offset = 0;
    try {
      for (let parsed = parseAt(buffer, offset); parsed; parsed = parseAt(buffer, offset)) {
        offset = parsed[1];
        const entry = waiting[0];
        if (!entry) throw new Error("RESP protocol error: reply without a request");
        entry.replies.push(parsed[0]);
        if (entry.replies.length === entry.count) (waiting.shift(), entry.resolve(entry.replies));
        if (offset >= buffer.length) break;
      }
    } catch (error) {
      failAll(error as Error);
      socket.destroy();
      return;
    }
    buffer = buffer.subarray(offset);
  });
  socket.on("error", (error) => failAll(error));
  socket.on("close", () => failAll(new Error("Redis connection closed")));

  const connection: RespConnection = {
    send(commands) {
      if (failure) return Promise.reject(failure);
      if (commands.length === 0) return Promise.resolve([]);
      return new Promise((resolve, reject) => {
        waiting.push({ count: commands.length, replies: [], resolve, reject });
        socket.write(Buffer.concat(commands.map(encodeCommand)));
      });
    },
    close: () => void socket.end(),
  };
  const setup: RespArg[][] = [];
  if (address.password) setup.push(address.username ? ["AUTH", address.username, address.password] : ["AUTH", address.password]);
  if (address.db) setup.push(["SELECT", String(address.db)]);
  for (const reply of await connection.send(setup)) {
    if (reply instanceof RespError) throw (connection.close(), new Error(`Redis setup failed: ${reply.message}`));
  }
  return connection;
}
