import { readlink, stat } from 'node:fs/promises';

/** The process's own stdout/stderr when they are regular files (self-capture). */
export async function ownOutputFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const fd of [1, 2]) {
    try {
      const target = await readlink(`/proc/self/fd/${fd}`);
      if (target.startsWith('/') && (await stat(target)).isFile())
        out.push(target);
    } catch {
      // not Linux, or not a file
    }
  }
  return out;
}
