import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerCursor, FilePosition, Position } from '@lc/core';
import { hashBytes, RESUME_SKEW_MS } from '../../container/line-assembler.js';
import type { DockerJsonFields } from '../docker-json-line.js';
import { DockerJsonLineParser } from '../docker-json-line.js';

/** Bytes read back from a committed offset to rebuild the API cursor. */
const WINDOW_BYTES = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * The API mode's cursor for a container read in files mode before
 * (switching `files` → `api`): found from the committed file positions of
 * its json-file logs (`<data_root>/containers/<id>/`), by reading back the
 * entries up to the last committed one. Like the API's own cursors, it
 * resumes {@link RESUME_SKEW_MS} before that entry's time and counts the
 * entries at or after it that were read (the engine replays them first).
 * Undefined when none of its files has a committed position, or they
 * cannot be read.
 */
export async function apiCursorFromFiles(
  positions: readonly Position[],
  dataRoot: string,
  containerId: string,
): Promise<ContainerCursor | undefined> {
  const dir = join(dataRoot, 'containers', containerId);
  const committed = positions.filter(
    (p): p is FilePosition =>
      p.kind === 'file' &&
      'path' in p &&
      p.path.startsWith(`${dir}/`) &&
      p.offset > 0,
  );
  if (committed.length === 0) return undefined;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  let best: ContainerCursor | undefined;
  let bestNs = -1n;
  for (const name of names) {
    if (!name.startsWith(`${containerId}-json.log`)) continue;
    const path = join(dir, name);
    let st;
    try {
      st = await stat(path, { bigint: true });
    } catch {
      continue;
    }
    const p = committed.find(
      (c) => c.dev === st.dev.toString() && c.ino === st.ino.toString(),
    );
    if (p === undefined) continue;
    const cursor = await cursorAt(path, p.offset);
    if (cursor !== undefined && BigInt(cursor.timestampNs) > bestNs) {
      best = cursor;
      bestNs = BigInt(cursor.timestampNs);
    }
  }
  return best;
}

/** The cursor after the entry that ends at `offset` of `path`. */
async function cursorAt(
  path: string,
  offset: number,
): Promise<ContainerCursor | undefined> {
  const from = Math.max(0, offset - WINDOW_BYTES);
  const buf = Buffer.alloc(offset - from);
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    const { bytesRead } = await handle.read(buf, 0, buf.length, from);
    if (bytesRead !== buf.length) return undefined;
  } finally {
    await handle.close();
  }
  const parser = new DockerJsonLineParser();
  const f: DockerJsonFields = {
    text: '',
    partial: false,
    stream: 0,
    timestampMs: 0,
    timestampNanos: 0,
  };
  const times: bigint[] = [];
  let lastContent = '';
  // Whole lines only: the first may be cut by the window.
  let start = from === 0 ? 0 : buf.indexOf(NEWLINE) + 1;
  while (start < buf.length) {
    const nl = buf.indexOf(NEWLINE, start);
    const end = nl === -1 ? buf.length : nl;
    if (parser.parseInto(buf, start, end, f)) {
      times.push(BigInt(f.timestampMs) * 1_000_000n + BigInt(f.timestampNanos));
      lastContent = f.partial ? f.text : `${f.text}\n`;
    }
    start = end + 1;
  }
  const last = times.at(-1);
  if (last === undefined) return undefined;
  let newest = last;
  for (const t of times) if (t > newest) newest = t;
  const since = newest - BigInt(RESUME_SKEW_MS) * 1_000_000n;
  return {
    timestampNs: String(since < 0n ? 0n : since),
    lineHash: hashBytes(Buffer.from(lastContent)),
    linesAtTimestamp: times.filter((t) => t >= since).length,
  };
}
