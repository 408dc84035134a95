import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { createAgent } from './create-agent.js';

const config = (dir: string, steps: string) =>
  unwrapConfig(
    parseConfig(
      `app: {data_dir: ${dir}/data}
positions: {store: memory}
sources: {files: [{include: ["${dir}/logs/*.log"]}]}
dispatcher: {batch_timeout: 10ms}
processing: {pipelines: [{name: default, steps: ${steps}}]}
sinks: {file: [{name: out, directory: ${dir}/out, path_template: "out.jsonl"}]}
`,
      { env: {} },
    ),
  );

async function delivered(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'out', 'out.jsonl'), 'utf8').catch(
    () => '',
  );
  const whole = text.split('\n');
  whole.pop(); // a line still being appended is not delivered yet
  return whole.map((l) => (JSON.parse(l) as { line: string }).line);
}

async function waitFor(dir: string, count: number): Promise<void> {
  for (let i = 0; i < 400 && (await delivered(dir)).length < count; i++)
    await new Promise((r) => setTimeout(r, 25));
}

describe('createAgent', () => {
  describe('reload', () => {
    it('should apply a processing-only change live, without restarting sources', async () => {
      const tmp = await createTempDir('lc-agent-processing-');
      await mkdir(join(tmp.path, 'logs'));
      const log = join(tmp.path, 'logs', 'app.log');
      const agent = createAgent({
        config: config(tmp.path, '[{type: drop, when: {line_matches: "^x"}}]'),
      });
      await agent.start();
      await appendFile(log, 'x dropped\npassword=one\n');
      await waitFor(tmp.path, 1);
      const result = await agent.reload(
        config(tmp.path, '[{type: redact, rules: [passwords]}]'),
      );
      expect(result.applied).toEqual(['processing']);
      await appendFile(log, 'x kept\npassword=two\n');
      await waitFor(tmp.path, 3);
      await agent.shutdown();
      expect(await delivered(tmp.path)).toEqual([
        'password=one',
        'x kept',
        'password=[REDACTED]',
      ]);
      await tmp.cleanup();
    });
  });
});
