import { readdir } from 'node:fs/promises';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { probeComponents } from './probe-components.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await createTempDir('lc-probe-');
});
afterEach(() => tmp.cleanup());

const probe = (yaml: string) =>
  probeComponents(unwrapConfig(parseConfig(yaml, { env: {} })));

describe('probeComponents', () => {
  it('should accept a config whose every component builds, creating nothing', async () => {
    expect(
      await probe(
        [
          `app: {data_dir: ${tmp.path}/d}`,
          `sources: {files: [{include: ["${tmp.path}/logs/{a,b}/*.log"], exclude: ["*.gz"]}], docker: {enabled: true, socket: ${tmp.path}/docker.sock}}`,
          `sinks: {file: [{directory: ${tmp.path}/out, path_template: "{source_kind}/{date}.log"}], loki: [{url: "http://127.0.0.1:1"}], kafka: [{brokers: ["127.0.0.1:1"], topic: t}]}`,
        ].join('\n'),
      ),
    ).toEqual([]);
    expect(await readdir(tmp.path)).toEqual([]);
  });

  // Each factory's own option error, at the config key it came from.
  const table: [what: string, yaml: string, path: string, message: RegExp][] = [
    [
      'a path template escaping the directory',
      'sinks: {file: [{directory: /tmp/o, path_template: "../escaped/{file_name}"}]}',
      'sinks.file[0].path_template',
      /^must be a relative path without "\." or "\.\." segments, got "\.\.\/escaped\/\{file_name\}"$/,
    ],
    [
      'an absolute path template',
      'sinks: {stdout: [{}], file: [{directory: /tmp/o}, {directory: /tmp/p, path_template: "/etc/x.log"}]}',
      'sinks.file[1].path_template',
      /^must be a relative path/,
    ],
    [
      'an unknown placeholder',
      'sinks: {file: [{directory: /tmp/o, path_template: "{nope}.log"}]}',
      'sinks.file[0].path_template',
      /^uses unknown placeholder \{nope\}; known: \{source\}/,
    ],
    [
      'a dispatcher send timeout of 0',
      'sinks: {stdout: [{}]}\ndispatcher: {send_timeout: 0}',
      'dispatcher.send_timeout',
      /^must be a positive/,
    ],
    [
      'a spill segment size of 0',
      'sinks: {stdout: [{}]}\ndispatcher: {spill: {max_segment_bytes: 0}}',
      'dispatcher.spill.max_segment_bytes',
      /^must be at least 4096, got 0$/,
    ],
    [
      'a line limit below what the monitor takes',
      'sinks: {stdout: [{}]}\nsources: {files: [{include: [/tmp/x/*.log]}, {include: [/tmp/y/*.log], max_line_bytes: 8}]}',
      'sources.files[1].max_line_bytes',
      /^must be an integer >= 16, got 8$/,
    ],
    [
      'a rescan interval below what the monitor takes',
      'sinks: {stdout: [{}]}\nsources: {files: [{include: [/tmp/x/*.log], rescan_interval: 1ms}]}',
      'sources.files[0].rescan_interval',
      /^must be an integer >= 10, got 1$/,
    ],
  ];
  for (const [what, yaml, path, message] of table) {
    it(`should name the config key of ${what}`, async () => {
      const issues = await probe(yaml);
      expect(issues).toHaveLength(1);
      expect(issues[0]?.path).toBe(path);
      expect(issues[0]?.message).toMatch(message);
    });
  }

  it('should report every bad include and exclude glob, not only the first', async () => {
    expect(
      await probe(
        'sinks: {stdout: [{}]}\nsources: {files: [{include: ["/l/{a,b.log", "/l/ok/*.log", "/l/[.log"], exclude: ["x}"]}]}',
      ),
    ).toEqual([
      {
        path: 'sources.files[0].include[0]',
        message:
          'not a valid glob: "{" at character 4 is never closed (add "}" or escape it as "\\{"); got "/l/{a,b.log"',
      },
      {
        path: 'sources.files[0].include[2]',
        message:
          'not a valid glob: "[" in "[.log" is never closed (add "]" or escape it as "\\["); got "/l/[.log"',
      },
      {
        path: 'sources.files[0].exclude[0]',
        message:
          'not a valid glob: "}" at character 2 has no opening "{" (escape it as "\\}" for a literal one); got "x}"',
      },
    ]);
  });
});
