// Deterministic log corpus for the file benchmarks: ~160-byte lines that
// look like application logs (timestamp, level, logger, message, key=value
// fields), the same for a given index on every run and machine.
import { closeSync, openSync, writeSync } from 'node:fs';

const LEVELS = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
const LOGGERS = [
  'http.server',
  'db.pool',
  'auth.session',
  'queue.worker',
  'cache.lru',
];
const WORDS = [
  'request',
  'completed',
  'user',
  'timeout',
  'retry',
  'connection',
  'accepted',
  'flushed',
  'batch',
  'shard',
];
const BASE_MS = Date.UTC(2026, 0, 1);

/** xorshift32: a tiny deterministic PRNG. */
function rng(seed) {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Line number `i` of the corpus, without the newline (~160 bytes). */
export function corpusLine(i) {
  const r = rng(i + 1);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const ts = new Date(BASE_MS + i * 7).toISOString();
  let msg = '';
  while (msg.length < 48) msg += `${pick(WORDS)} `;
  const line =
    `${ts} ${pick(LEVELS).padEnd(5)} [${pick(LOGGERS)}] ${msg.trim()} ` +
    `seq=${i} trace=${Math.floor(r() * 0xffffffff)
      .toString(16)
      .padStart(8, '0')} ` +
    `latency_ms=${Math.floor(r() * 900)} bytes=${Math.floor(r() * 65536)}`;
  return line.padEnd(159, '.');
}

/** Write lines [from, to) of the corpus to `path` (appending), in 1 MiB writes. */
export function writeCorpus(path, to, from = 0) {
  const fd = openSync(path, 'a');
  try {
    let chunk = '';
    for (let i = from; i < to; i++) {
      chunk += `${corpusLine(i)}\n`;
      if (chunk.length >= 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    if (chunk.length > 0) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}
