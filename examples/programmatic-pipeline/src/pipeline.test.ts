import { appendFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPipeline } from './pipeline.js';

async function delivered(outDir: string): Promise<string[]> {
  const text = await readFile(join(outDir, 'app.jsonl'), 'utf8').catch(
    () => '',
  );
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { line: string }).line);
}

describe('startPipeline', () => {
  it('should deliver every line once across a restart', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lc-example-'));
    const dirs = {
      logDir: join(root, 'logs'),
      outDir: join(root, 'out'),
      stateDir: root,
    };
    await mkdir(dirs.logDir);
    await appendFile(join(dirs.logDir, 'app.log'), 'one\ntwo\n');
    let pipeline = await startPipeline(dirs);
    for (let i = 0; i < 200 && (await delivered(dirs.outDir)).length < 2; i++)
      await new Promise((r) => setTimeout(r, 50));
    await pipeline.shutdown();
    await appendFile(join(dirs.logDir, 'app.log'), 'three\n');
    pipeline = await startPipeline(dirs);
    for (let i = 0; i < 200 && (await delivered(dirs.outDir)).length < 3; i++)
      await new Promise((r) => setTimeout(r, 50));
    await pipeline.shutdown();
    expect(await delivered(dirs.outDir)).toEqual(['one', 'two', 'three']);
    await rm(root, { recursive: true, force: true });
  });
});
