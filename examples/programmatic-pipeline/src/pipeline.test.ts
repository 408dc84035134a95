// Real files end to end: a file monitor tails a log, @lc/processing parses
// and redacts, the dispatcher delivers to a JSON Lines file sink, and
// positions resume the tail after a restart.
import { appendFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPipeline } from './pipeline.js';

interface Delivered {
  line: string;
  labels: Record<string, string>;
}

async function delivered(outDir: string): Promise<Delivered[]> {
  const text = await readFile(join(outDir, 'app.jsonl'), 'utf8').catch(
    () => '',
  );
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Delivered);
}

async function waitForLines(outDir: string, count: number): Promise<void> {
  // Waits for the event (lines in the output), bounded so a broken
  // pipeline fails instead of hanging.
  for (let i = 0; i < 400; i++) {
    if ((await delivered(outDir)).length >= count) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('startPipeline', () => {
  it('should parse, drop and redact every line once across a restart', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lc-example-'));
    const dirs = {
      logDir: join(root, 'logs'),
      outDir: join(root, 'out'),
      stateDir: root,
    };
    await mkdir(dirs.logDir);
    const log = join(dirs.logDir, 'app.log');
    await appendFile(
      log,
      [
        '{"level":"info","app":"api","msg":"login user=bob password=hunter2"}',
        '{"level":"debug","app":"api","msg":"cache miss"}',
        'plain text from bob@example.com',
        '',
      ].join('\n'),
    );
    let pipeline = await startPipeline(dirs);
    await waitForLines(dirs.outDir, 2);
    await pipeline.shutdown();
    await appendFile(
      log,
      '{"level":"warn","app":"api","msg":"Authorization: Bearer abc.def-123"}\n',
    );
    pipeline = await startPipeline(dirs);
    await waitForLines(dirs.outDir, 3);
    await pipeline.shutdown();
    const out = await delivered(dirs.outDir);
    expect(out.map((r) => r.line)).toEqual([
      'login user=bob password=[REDACTED]',
      'plain text from [REDACTED]',
      'Authorization: Bearer [REDACTED]',
    ]);
    expect(out.map((r) => [r.labels['level'], r.labels['app']])).toEqual([
      ['info', 'api'],
      [undefined, undefined],
      ['warn', 'api'],
    ]);
    const written = JSON.stringify(out);
    for (const secret of ['hunter2', 'bob@example.com', 'abc.def-123'])
      expect(written).not.toContain(secret);
    await rm(root, { recursive: true, force: true });
  });
});
