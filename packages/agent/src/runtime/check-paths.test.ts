import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import {
  checkIncludeRoots,
  checkWrittenPaths,
  writtenPaths,
} from './check-paths.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await createTempDir('lc-check-paths-');
});
afterEach(() => tmp.cleanup());

const config = (yaml: string) => unwrapConfig(parseConfig(yaml, { env: {} }));

describe('writtenPaths', () => {
  it('should list data_dir, the positions file, WAL, DLQ, spill and file sink directories with their keys', () => {
    const paths = writtenPaths(
      config(
        `app: {data_dir: ${tmp.path}/d}\nsinks: {file: [{directory: ${tmp.path}/o}]}\ndlq: {directory: ${tmp.path}/q}`,
      ),
    );
    expect(paths.map((p) => [p.key, p.path, p.defaulted])).toEqual([
      ['app.data_dir', `${tmp.path}/d`, false],
      ['positions.path', `${tmp.path}/d/positions.json`, true],
      ['persistence.directory', `${tmp.path}/d/wal`, true],
      ['dlq.directory', `${tmp.path}/q`, false],
      ['dispatcher.spill.directory', `${tmp.path}/d/spill`, true],
      ['sinks.file[0].directory', `${tmp.path}/o`, false],
    ]);
  });

  it('should leave out what the config turns off', () => {
    const keys = writtenPaths(
      config(
        `app: {data_dir: ${tmp.path}/d}\nsinks: {stdout: [{}]}\npositions: {store: memory}\npersistence: {enabled: false}\ndlq: {enabled: false}\ndispatcher: {drop_policy: drop_newest}`,
      ),
    ).map((p) => p.key);
    expect(keys).toEqual(['app.data_dir']);
  });
});

describe('checkWrittenPaths', () => {
  it('should accept paths that exist or can be created, and create nothing', async () => {
    await mkdir(join(tmp.path, 'd'));
    const issues = checkWrittenPaths(
      config(
        `app: {data_dir: ${tmp.path}/d}\nsinks: {file: [{directory: ${tmp.path}/a/b/c}]}`,
      ),
    );
    expect(issues).toEqual([]);
    expect(await readdir(tmp.path)).toEqual(['d']);
    expect(await readdir(join(tmp.path, 'd'))).toEqual([]);
  });

  it('should name the key of a path blocked by a file, and report a broken data_dir once', async () => {
    await writeFile(join(tmp.path, 'f'), 'x');
    await mkdir(join(tmp.path, 'pos'));
    const issues = checkWrittenPaths(
      config(
        [
          `app: {data_dir: ${tmp.path}/f/data}`,
          `sinks: {file: [{directory: ${tmp.path}/f}]}`,
          `persistence: {directory: ${tmp.path}/f/wal}`,
        ].join('\n'),
      ),
    );
    expect(issues).toEqual([
      {
        path: 'app.data_dir',
        message: `${tmp.path}/f/data cannot be created: ${tmp.path}/f is not a directory`,
      },
      {
        path: 'persistence.directory',
        message: `${tmp.path}/f/wal cannot be created: ${tmp.path}/f is not a directory`,
      },
      {
        path: 'sinks.file[0].directory',
        message: `${tmp.path}/f exists and is not a directory`,
      },
    ]);
    expect(
      checkWrittenPaths(
        config(
          `app: {data_dir: ${tmp.path}/d}\nsinks: {stdout: [{}]}\npositions: {path: ${tmp.path}/pos}`,
        ),
      ),
    ).toEqual([
      {
        path: 'positions.path',
        message: `${tmp.path}/pos is a directory, not a file`,
      },
    ]);
  });

  it('should say when a default path under data_dir is the problem', async () => {
    await mkdir(join(tmp.path, 'd'));
    await writeFile(join(tmp.path, 'd', 'dlq'), 'x');
    expect(
      checkWrittenPaths(
        config(`app: {data_dir: ${tmp.path}/d}\nsinks: {stdout: [{}]}`),
      ),
    ).toEqual([
      {
        path: 'dlq.directory',
        message: `${tmp.path}/d/dlq exists and is not a directory (the default under app.data_dir; set dlq.directory to use another place)`,
      },
    ]);
  });
});

describe('checkIncludeRoots', () => {
  it('should warn for a glob whose directory is missing or a file, not for one that exists', async () => {
    await mkdir(join(tmp.path, 'logs'));
    await writeFile(join(tmp.path, 'file'), 'x');
    const warnings = checkIncludeRoots(
      config(
        `sinks: {stdout: [{}]}\nsources: {files: [{include: ["${tmp.path}/logs/**/*.log", "${tmp.path}/nope/*.log"]}, {include: ["${tmp.path}/file/x/*.log"]}]}`,
      ),
    );
    expect(warnings).toEqual([
      {
        path: 'sources.files[0].include[1]',
        message: `${tmp.path}/nope does not exist (yet); files are picked up when it appears`,
      },
      {
        path: 'sources.files[1].include[0]',
        message: `${tmp.path}/file/x does not exist (yet); files are picked up when it appears`,
      },
    ]);
  });
});
