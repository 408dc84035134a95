import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freezeLabels } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import type { AgentConfig } from '../config/schema.js';
import { buildSinks } from './build-sinks.js';
import { resolveSinkModule } from '../config/sink-modules.js';
import { buildCustomSink, checkCustomSinks } from './custom-sinks.js';

// Real modules on disk, imported for real: a relative file next to the
// config, a package in the config directory's node_modules, and broken ones.
const SINK_MODULE = `
const written = (globalThis.__lcWritten ??= []);
export function createSink(options, context) {
  if (typeof options.tag !== 'string') throw new Error('tag: expected a string');
  return {
    name: options.rename ?? context.name,
    async write(batch) {
      for (const r of batch) written.push(options.tag + ':' + r.line);
      return { status: 'success' };
    },
    async flush() {},
    async shutdown() {},
  };
}
export const notAFunction = 42;
export function returnsNothing() { return undefined; }
`;

let tmp: TempDir;
beforeEach(async () => {
  tmp = await createTempDir('lc-custom-sinks-');
  await mkdir(join(tmp.path, 'conf', 'sinks'), { recursive: true });
  await writeFile(join(tmp.path, 'conf', 'sinks', 'mine.mjs'), SINK_MODULE);
  const pkg = join(tmp.path, 'conf', 'node_modules', 'lc-sink-pkg');
  await mkdir(join(pkg, 'lib'), { recursive: true });
  await writeFile(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'lc-sink-pkg',
      type: 'module',
      exports: { '.': { import: './lib/index.js' } },
    }),
  );
  await writeFile(join(pkg, 'lib', 'index.js'), SINK_MODULE);
});
afterEach(() => tmp.cleanup());

function config(custom: string): AgentConfig {
  return unwrapConfig(parseConfig(`sinks: {custom: [${custom}]}\n`));
}

const record = (line: string): LogRecord => ({
  line,
  labels: freezeLabels({}),
  timestampMs: 0,
  timestampNanos: 0,
  source: { kind: 'file', id: 'x' },
});

const written = (): string[] =>
  ((globalThis as Record<string, unknown>)['__lcWritten'] as string[]) ?? [];

describe('resolveSinkModule', () => {
  it('should resolve a relative path from the config file and a package from its node_modules', () => {
    const from = join(tmp.path, 'conf', 'agent.yaml');
    expect(resolveSinkModule('./sinks/mine.mjs', from)).toBe(
      pathToFileURL(join(tmp.path, 'conf', 'sinks', 'mine.mjs')).href,
    );
    expect(resolveSinkModule('lc-sink-pkg', from)).toBe(
      pathToFileURL(
        join(
          tmp.path,
          'conf',
          'node_modules',
          'lc-sink-pkg',
          'lib',
          'index.js',
        ),
      ).href,
    );
  });
});

describe('checkCustomSinks', () => {
  it('should replace each module with its resolved file URL', async () => {
    const result = await checkCustomSinks(
      config(
        '{name: a, module: ./sinks/mine.mjs}, {name: b, module: lc-sink-pkg}',
      ),
      join(tmp.path, 'conf', 'agent.yaml'),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.sinks.custom.map((c) => c.module)).toEqual([
      pathToFileURL(join(tmp.path, 'conf', 'sinks', 'mine.mjs')).href,
      pathToFileURL(
        join(
          tmp.path,
          'conf',
          'node_modules',
          'lc-sink-pkg',
          'lib',
          'index.js',
        ),
      ).href,
    ]);
  });

  it('should name sinks.custom[i].module for a module that does not resolve, has no such export or a non-function one', async () => {
    const result = await checkCustomSinks(
      config(
        [
          '{name: a, module: ./sinks/missing.mjs}',
          '{name: b, module: no-such-package}',
          '{name: c, module: ./sinks/mine.mjs, export: makeSink}',
          '{name: d, module: ./sinks/mine.mjs, export: notAFunction}',
          '{name: e, module: ./sinks/mine.mjs}',
        ].join(', '),
      ),
      join(tmp.path, 'conf', 'agent.yaml'),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual([
      'sinks.custom[0].module',
      'sinks.custom[1].module',
      'sinks.custom[2].module',
      'sinks.custom[3].module',
    ]);
    const [missing, noPkg, noExport, notFn] = result.issues.map(
      (i) => i.message,
    );
    expect(missing).toContain('cannot resolve "./sinks/missing.mjs"');
    expect(noPkg).toContain('cannot resolve "no-such-package"');
    expect(noExport).toContain('has no export "makeSink"');
    expect(noExport).toContain('"createSink"');
    expect(notFn).toContain('export "notAFunction"');
    expect(notFn).toContain('not a sink factory function');
  });
});

describe('buildCustomSink', () => {
  it('should call the factory with the options and the configured name, and deliver through it', async () => {
    const checked = await checkCustomSinks(
      config('{name: mine, module: lc-sink-pkg, options: {tag: t1}}'),
      join(tmp.path, 'conf', 'agent.yaml'),
    );
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    const entry = checked.config.sinks.custom[0] as never;
    const sink = await buildCustomSink(entry, 0, {});
    expect(sink.name).toBe('mine');
    const before = written().length;
    await sink.write([record('hello')], {
      signal: new AbortController().signal,
    });
    expect(written().slice(before)).toEqual(['t1:hello']);
  });

  it('should give the sink the configured name when the factory named it otherwise', async () => {
    const checked = await checkCustomSinks(
      config(
        '{name: mine, module: ./sinks/mine.mjs, options: {tag: t, rename: other}}',
      ),
      join(tmp.path, 'conf', 'agent.yaml'),
    );
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    const sink = await buildCustomSink(
      checked.config.sinks.custom[0] as never,
      0,
      {},
    );
    expect(sink.name).toBe('mine');
  });

  it('should throw LC_ERR_CONFIG naming sinks.custom[i].options when the factory rejects them', async () => {
    const checked = await checkCustomSinks(
      config(
        '{name: x, module: ./sinks/mine.mjs}, {name: y, module: ./sinks/mine.mjs, options: {}}',
      ),
      join(tmp.path, 'conf', 'agent.yaml'),
    );
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    await expect(
      buildCustomSink(checked.config.sinks.custom[1] as never, 1, {}),
    ).rejects.toMatchObject({
      code: 'LC_ERR_CONFIG',
      message: expect.stringMatching(
        /^sinks\.custom\[1\]\.options: .*tag: expected a string/,
      ) as unknown,
      details: { issues: [{ path: 'sinks.custom[1].options' }] },
    });
  });

  it('should throw LC_ERR_CONFIG naming sinks.custom[i].module when the factory returns no sink', async () => {
    const checked = await checkCustomSinks(
      config('{name: x, module: ./sinks/mine.mjs, export: returnsNothing}'),
      join(tmp.path, 'conf', 'agent.yaml'),
    );
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    await expect(
      buildCustomSink(checked.config.sinks.custom[0] as never, 0, {}),
    ).rejects.toMatchObject({
      code: 'LC_ERR_CONFIG',
      message: expect.stringContaining(
        'sinks.custom[0].module: the sink factory "returnsNothing" returned nothing, not a sink',
      ) as unknown,
    });
  });
});

describe('buildSinks', () => {
  it('should route to a custom sink by its match like any other sink', async () => {
    const checked = await checkCustomSinks(
      unwrapConfig(
        parseConfig(`sinks:
  stdout: [{name: rest, match: {job: other}}]
  custom: [{name: mine, module: ./sinks/mine.mjs, options: {tag: t}, match: {job: "ap?"}}]
`),
      ),
      join(tmp.path, 'conf', 'agent.yaml'),
    );
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    const built = await buildSinks(checked.config, {});
    expect(built.sinks.map((s) => s.name)).toEqual(['rest', 'mine']);
    expect(built.defaultSinks).toEqual([]);
    expect(built.routes).toEqual([
      { match: { job: /^other$/ }, sinks: ['rest'] },
      { match: { job: /^ap.$/ }, sinks: ['mine'] },
    ]);
  });
});
