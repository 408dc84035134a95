import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from './load-config.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await createTempDir('lc-sink-modules-');
  await mkdir(join(tmp.path, 'conf', 'sinks'), { recursive: true });
  await writeFile(
    join(tmp.path, 'conf', 'sinks', 'mine.mjs'),
    'export const createSink = () => undefined;\n',
  );
  await writeFile(
    join(tmp.path, 'conf', 'agent.yaml'),
    `sinks:
  custom:
    - {name: a, module: ./sinks/mine.mjs}
    - {name: b, module: ./sinks/missing.mjs}
`,
  );
});
afterEach(() => tmp.cleanup());

describe('loadConfigFile', () => {
  it("should resolve sinks.custom modules from the file's directory, keeping those that do not resolve as written", async () => {
    const result = await loadConfigFile(join(tmp.path, 'conf', 'agent.yaml'));
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.sinks.custom.map((c) => c.module)).toEqual([
      pathToFileURL(join(tmp.path, 'conf', 'sinks', 'mine.mjs')).href,
      './sinks/missing.mjs',
    ]);
  });

  it('should keep them as written with resolveModules: false', async () => {
    const result = await loadConfigFile(join(tmp.path, 'conf', 'agent.yaml'), {
      resolveModules: false,
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.sinks.custom.map((c) => c.module)).toEqual([
      './sinks/mine.mjs',
      './sinks/missing.mjs',
    ]);
  });
});
