import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every `line` the agent's JSON file sink wrote under `dir` (all files,
 * repeats kept). A torn last line (SIGKILL mid-write, repaired by the sink
 * on restart) is skipped; anything else that is not JSON throws.
 */
export async function readFileSink(dir: string): Promise<string[]> {
  const files = await readdir(dir).catch(() => [] as string[]);
  const lines: string[] = [];
  for (const f of files.sort()) {
    const text = await readFile(join(dir, f), 'utf8');
    const parts = text.split('\n');
    for (let i = 0; i < parts.length; i++) {
      const l = parts[i] as string;
      if (l === '') continue;
      try {
        lines.push((JSON.parse(l) as { line: string }).line);
      } catch (cause) {
        if (i === parts.length - 1) continue;
        throw new Error(`${f}:${i + 1}: not JSON: ${l.slice(0, 80)}`, {
          cause,
        });
      }
    }
  }
  return lines;
}

/** Polls `check` every 100 ms until it holds or `timeoutMs` (ms) passes. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
