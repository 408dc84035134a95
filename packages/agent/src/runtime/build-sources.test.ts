import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInMemoryPositionStore } from '@lc/core/testing';
import { createCollectingIntake } from '@lc/core/testing';
import { createPositionManager } from '@lc/positions';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import type { Generation } from './build-pipeline.js';
import {
  attachSources,
  dockerMode,
  recordSourceWatches,
  startSources,
  stopSources,
} from './build-sources.js';

function generation(intake: Generation['intake']): Generation {
  return {
    config: undefined as never,
    sinks: [],
    dispatcher: undefined as never,
    intake,
    files: [],
    docker: undefined,
    dockerFiles: undefined,
    dockerApiUnavailable: undefined,
    kubernetes: undefined,
    sinkFiles: '',
  };
}

describe('attachSources', () => {
  it('should create one file monitor per group on the intake, and read through it once started', async () => {
    const tmp = await createTempDir('lc-build-sources-');
    await mkdir(join(tmp.path, 'a'));
    await mkdir(join(tmp.path, 'b'));
    await appendFile(join(tmp.path, 'a', 'x.log'), 'from a\n');
    await appendFile(join(tmp.path, 'b', 'y.log'), 'from b\n');
    const config = unwrapConfig(
      parseConfig(
        `app: {data_dir: ${tmp.path}/data}
sources:
  files:
    - {include: ["${tmp.path}/a/*.log"], labels: {job: a}}
    - {include: ["${tmp.path}/b/*.log"], labels: {job: b}}
sinks: {stdout: [{}]}
`,
        { env: {} },
      ),
    );
    const positions = createPositionManager({
      store: createInMemoryPositionStore(),
    });
    await positions.start();
    await recordSourceWatches(config, positions);
    const intake = createCollectingIntake();
    const g = generation(intake);
    attachSources(g, config, { inst: {}, positions });
    expect(g.files).toHaveLength(2);
    expect(g.docker).toBeUndefined();
    await startSources(g);
    await intake.waitFor(2, 20_000);
    await stopSources(g);
    expect(intake.records.map((r) => [r.line, r.labels['job']]).sort()).toEqual(
      [
        ['from a', 'a'],
        ['from b', 'b'],
      ],
    );
    await positions.shutdown();
    await tmp.cleanup();
  });

  it('should create the Docker monitor only when enabled', () => {
    const config = unwrapConfig(
      parseConfig(
        'sources: {docker: {enabled: true, mode: api, socket: /nonexistent.sock}}\nsinks: {stdout: [{}]}',
        { env: {} },
      ),
    );
    const g = generation(createCollectingIntake());
    attachSources(g, config, {
      inst: {},
      positions: createPositionManager({
        store: createInMemoryPositionStore(),
      }),
    });
    expect(g.files).toHaveLength(0);
    expect(g.docker).toBeDefined();
    expect(g.dockerFiles).toBeUndefined();
  });
});

describe('dockerMode', () => {
  const docker = (yaml: string) =>
    unwrapConfig(
      parseConfig(
        `sources: {docker: {enabled: true, ${yaml}}}\nsinks: {stdout: [{}]}`,
        {
          env: {},
        },
      ),
    ).sources.docker;

  it('should choose files when <data_root>/containers is readable, and say why', async () => {
    const tmp = await createTempDir('lc-docker-mode-');
    await mkdir(join(tmp.path, 'containers'));
    expect(dockerMode(docker(`data_root: ${tmp.path}`))).toEqual({
      mode: 'files',
      reason: `${tmp.path}/containers is readable`,
    });
    await tmp.cleanup();
  });

  it('should choose api when <data_root>/containers cannot be read, and say why', async () => {
    const tmp = await createTempDir('lc-docker-mode-');
    expect(dockerMode(docker(`data_root: ${tmp.path}`))).toEqual({
      mode: 'api',
      reason: `${tmp.path}/containers is not readable (ENOENT)`,
    });
    await tmp.cleanup();
  });

  it('should keep the configured mode', async () => {
    const tmp = await createTempDir('lc-docker-mode-');
    await mkdir(join(tmp.path, 'containers'));
    expect(dockerMode(docker(`mode: api, data_root: ${tmp.path}`)).mode).toBe(
      'api',
    );
    expect(
      dockerMode(docker('mode: files, data_root: /nonexistent')).mode,
    ).toBe('files');
    await tmp.cleanup();
  });

  it('should build the files monitor and the API monitor for other log drivers in files mode', async () => {
    const tmp = await createTempDir('lc-docker-mode-');
    await mkdir(join(tmp.path, 'containers'));
    const config = unwrapConfig(
      parseConfig(
        `sources: {docker: {enabled: true, data_root: ${tmp.path}, socket: /nonexistent.sock}}\nsinks: {stdout: [{}]}`,
        { env: {} },
      ),
    );
    const positions = createPositionManager({
      store: createInMemoryPositionStore(),
    });
    await positions.start();
    const g = generation(createCollectingIntake());
    attachSources(g, config, { inst: {}, positions });
    expect(g.dockerFiles).toBeDefined();
    expect(g.docker).toBeDefined();
    // No engine here: files mode starts anyway, without the API part.
    await startSources(g);
    expect(g.docker).toBeUndefined();
    await stopSources(g);
    await positions.shutdown();
    await tmp.cleanup();
  });
});
