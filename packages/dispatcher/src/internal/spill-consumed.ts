import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toLcError } from '@lc/core';

/**
 * A durable spill's `consumed.json`: the chunk delivered only in part at a
 * clean stop, and its last delivered record, so a restart does not send
 * that part again (after a crash it is sent again: at most a chunk).
 */
export interface ConsumedMark {
  readonly seq: number;
  readonly i: number;
}

const consumedPath = (directory: string): string =>
  join(directory, 'consumed.json');

/** Write `mark` (or remove the file when there is none). */
export async function saveConsumed(
  directory: string,
  mark: ConsumedMark | undefined,
  onError: (error: unknown) => void,
): Promise<void> {
  const path = consumedPath(directory);
  try {
    if (mark === undefined) {
      await rm(path, { force: true });
      return;
    }
    await writeFile(`${path}.tmp`, JSON.stringify(mark));
    await rename(`${path}.tmp`, path);
  } catch (error) {
    onError(
      toLcError(
        error,
        'LC_ERR_BUFFER_IO',
        'spill: could not save how far it was delivered (a restart sends part of a chunk again)',
      ),
    );
  }
}

/** The mark a clean stop left, if any (a missing or damaged file: none). */
export async function readConsumed(
  directory: string,
): Promise<ConsumedMark | undefined> {
  try {
    const c = JSON.parse(await readFile(consumedPath(directory), 'utf8')) as {
      seq?: unknown;
      i?: unknown;
    };
    return typeof c.seq === 'number' && typeof c.i === 'number'
      ? { seq: c.seq, i: c.i }
      : undefined;
  } catch {
    return undefined;
  }
}
