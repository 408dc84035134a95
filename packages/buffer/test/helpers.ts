import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskLogEntry } from '../src/index.js';

export async function collect(
  it: AsyncIterable<DiskLogEntry>,
): Promise<DiskLogEntry[]> {
  const out: DiskLogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => /^seg-\d+\.log$/.test(f)).sort();
}

export async function quarantineFiles(dir: string): Promise<string[]> {
  return readdir(join(dir, 'quarantine')).catch(() => []);
}

/** Flip bits of the byte at `index` in place. */
export function flipByte(data: Buffer, index: number, mask = 0xff): void {
  data.writeUInt8((data.readUInt8(index) ^ mask) & 0xff, index);
}
