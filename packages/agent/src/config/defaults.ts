import { resolve } from 'node:path';

/** `app.data_dir` when the config does not say. */
export const DEFAULT_DATA_DIR = './data';

/** Where the JSON position store lives: `positions.path`, or `<data_dir>/positions.json`. */
export function positionsFilePath(dataDir: string, path?: string): string {
  return path ?? resolve(dataDir, 'positions.json');
}
