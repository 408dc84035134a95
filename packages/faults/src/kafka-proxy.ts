import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of one Kafka broker, on a fixed `127.0.0.1` port.
 *
 * A librdkafka mock broker listens on a new port every time it starts, and
 * advertises that port in its Metadata responses. The proxy rewrites the
 * advertised port of the broker it forwards to into its own, so a client
 * bootstrapped at the proxy sends everything through it: {@link down}
 * makes "the broker" vanish (listener closed, every connection reset) and
 * {@link up} brings it back on the same address, in front of the same or
 * a new (restarted) broker. The client sees one broker address throughout.
 */
export interface KafkaProxy {
  /** The fixed port clients use. */
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** Start listening again (on the same port) in front of `target` (`host:port`). */
  up(target: string): Promise<void>;
  /** Stop listening and reset every open connection (client and broker side). */
  down(): Promise<void>;
  /** Client connections accepted so far. */
  accepted(): number;
  /** Metadata responses whose broker port was rewritten. */
  rewrites(): number;
}

const METADATA = 3;

function readUVarint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = buf[i++] as number;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i];
    shift += 7;
  }
}

function skipTaggedFields(buf: Buffer, at: number): number {
  let [n, i] = readUVarint(buf, at);
  for (; n > 0; n--) {
    [, i] = readUVarint(buf, i); // tag
    let size: number;
    [size, i] = readUVarint(buf, i);
    i += size;
  }
  return i;
}

/**
 * Rewrites, in place, the port of every broker listed in a Metadata
 * response frame (`frame` starts at the 4-byte size) from `from` to `to`.
 * Returns true when a port was rewritten. Handles Metadata v0–v12 (v9+
 * flexible encoding).
 */
export function rewriteMetadataPorts(
  frame: Buffer,
  version: number,
  from: number,
  to: number,
): boolean {
  const flexible = version >= 9;
  let i = 8; // size + correlation id
  if (flexible) i = skipTaggedFields(frame, i);
  if (version >= 3) i += 4; // throttle_time_ms
  let count: number;
  if (flexible) {
    [count, i] = readUVarint(frame, i);
    count -= 1;
  } else {
    count = frame.readInt32BE(i);
    i += 4;
  }
  let rewritten = false;
  for (let b = 0; b < count; b++) {
    i += 4; // node_id
    if (flexible) {
      const [len, j] = readUVarint(frame, i);
      i = j + len - 1;
    } else i += 2 + frame.readInt16BE(i);
    if (frame.readInt32BE(i) === from) {
      frame.writeInt32BE(to, i);
      rewritten = true;
    }
    i += 4;
    if (flexible) {
      const [len, j] = readUVarint(frame, i);
      i = j + Math.max(0, len - 1);
      i = skipTaggedFields(frame, i);
    } else if (version >= 1) {
      const len = frame.readInt16BE(i);
      i += 2 + Math.max(0, len);
    }
  }
  return rewritten;
}

/** Splits a byte stream into Kafka frames (4-byte big-endian size prefix). */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) break;
      onFrame(Buffer.from(buf.subarray(0, 4 + size)));
      buf = buf.subarray(4 + size);
    }
  };
}

function parseTarget(target: string): { host: string; port: number } {
  const [host = '127.0.0.1', port = '0'] = target.split(':');
  return { host, port: Number(port) };
}

/**
 * Starts a {@link KafkaProxy} in front of `target` on `port` (0: a free
 * port, kept for every later {@link KafkaProxy.up}).
 */
export async function createKafkaProxy(
  target: string,
  port = 0,
): Promise<KafkaProxy> {
  let server: Server | undefined;
  let current = parseTarget(target);
  let listenPort = port;
  let accepted = 0;
  let rewrites = 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };

  const onConnection = (client: Socket) => {
    accepted++;
    track(client);
    const { host, port: brokerPort } = current;
    const upstream = createConnection(brokerPort, host);
    track(upstream);
    const pending = new Map<number, { key: number; version: number }>();
    client.on(
      'data',
      framer((frame) => {
        if (frame.length >= 12)
          pending.set(frame.readInt32BE(8), {
            key: frame.readInt16BE(4),
            version: frame.readInt16BE(6),
          });
        upstream.write(frame);
      }),
    );
    upstream.on(
      'data',
      framer((frame) => {
        const corr = frame.readInt32BE(4);
        const req = pending.get(corr);
        pending.delete(corr);
        if (
          req?.key === METADATA &&
          rewriteMetadataPorts(frame, req.version, brokerPort, listenPort)
        )
          rewrites++;
        client.write(frame);
      }),
    );
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(onConnection);
      s.once('error', reject);
      s.listen(listenPort, '127.0.0.1', () => {
        s.off('error', reject);
        const a = s.address();
        if (a !== null && typeof a === 'object') listenPort = a.port;
        server = s;
        resolve();
      });
    });

  await listen();
  const proxy: KafkaProxy = {
    get port() {
      return listenPort;
    },
    get address() {
      return `127.0.0.1:${listenPort}`;
    },
    async up(next) {
      current = parseTarget(next);
      if (server !== undefined) return;
      // The port was just released: retry briefly if the kernel says busy.
      for (let attempt = 0; ; attempt++) {
        try {
          await listen();
          return;
        } catch (e) {
          if (attempt >= 50) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async down() {
      const s = server;
      server = undefined;
      const closed =
        s === undefined
          ? Promise.resolve()
          : new Promise<void>((r) => s.close(() => r()));
      for (const sock of sockets) {
        try {
          sock.resetAndDestroy();
        } catch {
          sock.destroy();
        }
      }
      await closed;
    },
    accepted: () => accepted,
    rewrites: () => rewrites,
  };
  return proxy;
}
