import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory removed by `cleanup()`. */
export interface TempDir {
  readonly path: string;
  cleanup(): Promise<void>;
}

/** Create a fresh temporary directory under the OS temp dir. */
export async function createTempDir(prefix = 'lc-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
