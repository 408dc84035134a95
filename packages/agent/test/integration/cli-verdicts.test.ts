// `lc-agent validate` and `lc-agent run` reach the same verdict on the same
// config: both reject it naming the same config key, or both accept it
// (warnings allowed). The built binary runs each command as a real process;
// `run` runs until it logs "agent started" (then SIGTERM, exit 0) or exits.
// Permission cases run both commands as an unprivileged user when the tests
// run as root (root may write anywhere), against real directories.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inBatches, runCli, unprivilegedUser } from './cli-process.js';
import type { RunVerdict } from './cli-process.js';

interface Case {
  readonly name: string;
  /** The config: an object (over the base config) or raw YAML text. */
  readonly config: (dir: string) => Record<string, unknown> | string;
  readonly setup?: (dir: string) => Promise<void>;
  /** The config key both must name; undefined when both must accept. */
  readonly rejectAt?: string;
  /** For an accepted config: the key of a warning both must print. */
  readonly warnAt?: string;
  /** Run both as an unprivileged user (permission cases). */
  readonly unprivileged?: boolean;
  /** Use this file instead of `<dir>/agent.yaml` (a missing one). */
  readonly configFile?: (dir: string) => string;
}

/** A valid config: one file group, one file sink, API off (cases run in parallel). */
function base(dir: string, patch: Record<string, unknown> = {}) {
  const config: Record<string, unknown> = {
    app: { data_dir: `${dir}/data` },
    api: { enabled: false },
    sources: { files: [{ include: [`${dir}/logs/*.log`] }] },
    sinks: { file: [{ directory: `${dir}/out` }] },
  };
  for (const [section, value] of Object.entries(patch)) {
    const current = config[section];
    config[section] =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof current === 'object'
        ? { ...(current as object), ...value }
        : value;
  }
  return config;
}

const fileSink = (dir: string, extra: Record<string, unknown>) => ({
  sinks: { file: [{ directory: `${dir}/out`, ...extra }] },
});
const files = (dir: string, extra: Record<string, unknown>) => ({
  sources: { files: [{ include: [`${dir}/logs/*.log`], ...extra }] },
});
const aFile = (name: string) => (dir: string) =>
  writeFile(join(dir, name), 'not a directory\n');
/** A directory nobody but its owner (root, or this user made read-only) may write. */
const readOnlyDir = (name: string) => async (dir: string) => {
  await mkdir(join(dir, name));
  await chmod(join(dir, name), 0o555);
};

const CASES: Case[] = [
  { name: 'a valid config', config: (d) => base(d) },
  {
    name: 'an include directory that does not exist yet',
    config: (d) => base(d, files(d, { include: [`${d}/later/*.log`] })),
    warnAt: 'sources.files[0].include[0]',
  },
  {
    name: 'a sink directory that does not exist yet',
    config: (d) =>
      base(d, { sinks: { file: [{ directory: `${d}/new/deeper/out` }] } }),
  },
  {
    name: 'a path template escaping the sink directory',
    config: (d) =>
      base(d, fileSink(d, { path_template: '../escaped/{file_name}' })),
    rejectAt: 'sinks.file[0].path_template',
  },
  {
    name: 'an absolute path template',
    config: (d) => base(d, fileSink(d, { path_template: '/etc/{file_name}' })),
    rejectAt: 'sinks.file[0].path_template',
  },
  {
    name: 'an unknown path template placeholder',
    config: (d) => base(d, fileSink(d, { path_template: '{nope}.log' })),
    rejectAt: 'sinks.file[0].path_template',
  },
  {
    name: 'a sink directory under a regular file',
    config: (d) =>
      base(d, { sinks: { file: [{ directory: `${d}/blocker/out` }] } }),
    setup: aFile('blocker'),
    rejectAt: 'sinks.file[0].directory',
  },
  {
    name: 'an unwritable sink directory',
    config: (d) => base(d, { sinks: { file: [{ directory: `${d}/ro/out` }] } }),
    setup: readOnlyDir('ro'),
    rejectAt: 'sinks.file[0].directory',
    unprivileged: true,
  },
  {
    name: 'a data directory under a regular file',
    config: (d) => base(d, { app: { data_dir: `${d}/blocker/data` } }),
    setup: aFile('blocker'),
    rejectAt: 'app.data_dir',
  },
  {
    name: 'an unwritable data directory',
    config: (d) => base(d, { app: { data_dir: `${d}/ro/data` } }),
    setup: readOnlyDir('ro'),
    rejectAt: 'app.data_dir',
    unprivileged: true,
  },
  {
    name: 'a positions path that is a directory',
    config: (d) => base(d, { positions: { path: `${d}/logs` } }),
    rejectAt: 'positions.path',
  },
  {
    name: 'a WAL directory that is a file',
    config: (d) => base(d, { persistence: { directory: `${d}/blocker` } }),
    setup: aFile('blocker'),
    rejectAt: 'persistence.directory',
  },
  {
    name: 'a DLQ directory under a file',
    config: (d) => base(d, { dlq: { directory: `${d}/blocker/dlq` } }),
    setup: aFile('blocker'),
    rejectAt: 'dlq.directory',
  },
  {
    name: 'an unwritable spill directory',
    config: (d) =>
      base(d, { dispatcher: { spill: { directory: `${d}/ro/spill` } } }),
    setup: readOnlyDir('ro'),
    rejectAt: 'dispatcher.spill.directory',
    unprivileged: true,
  },
  {
    name: 'an unclosed brace in an include glob',
    config: (d) => base(d, files(d, { include: [`${d}/logs/{a,b.log`] })),
    rejectAt: 'sources.files[0].include[0]',
  },
  {
    name: 'an unclosed bracket in an include glob',
    config: (d) => base(d, files(d, { include: [`${d}/logs/[.log`] })),
    rejectAt: 'sources.files[0].include[0]',
  },
  {
    name: 'an unclosed bracket in an exclude glob',
    config: (d) => base(d, files(d, { exclude: ['[x'] })),
    rejectAt: 'sources.files[0].exclude[0]',
  },
  {
    name: 'an unterminated ${ reference',
    config: (d) =>
      `${stringify(base(d))}\n`.replace(
        'api:\n  enabled: false',
        'api:\n  enabled: false\n  token: "${NU_TOKEN"',
      ),
    rejectAt: 'api.token',
  },
  {
    name: 'an unset variable',
    config: (d) =>
      base(d, {
        sinks: { file: [{ directory: '${LC_TEST_SURELY_UNSET_VAR}' }] },
      }),
    rejectAt: 'sinks.file[0].directory',
  },
  {
    name: 'a misspelled key',
    config: (d) => base(d, { dispatcher: { workerz: 2 } }),
    rejectAt: 'dispatcher.workerz',
  },
  {
    name: 'a duration that is not one',
    config: (d) => base(d, { dispatcher: { batch_timeout: 'soon' } }),
    rejectAt: 'dispatcher.batch_timeout',
  },
  {
    name: 'a send timeout of 0 (the dispatcher needs > 0)',
    config: (d) => base(d, { dispatcher: { send_timeout: 0 } }),
    rejectAt: 'dispatcher.send_timeout',
  },
  {
    name: 'a line limit the file monitor refuses',
    config: (d) => base(d, files(d, { max_line_bytes: 8 })),
    rejectAt: 'sources.files[0].max_line_bytes',
  },
  {
    name: 'a rescan interval the file monitor refuses',
    config: (d) => base(d, files(d, { rescan_interval: '1ms' })),
    rejectAt: 'sources.files[0].rescan_interval',
  },
  {
    name: 'a spill segment size the disk log refuses',
    config: (d) => base(d, { dispatcher: { spill: { max_segment_bytes: 0 } } }),
    rejectAt: 'dispatcher.spill.max_segment_bytes',
  },
  {
    name: 'a public API without a token',
    config: (d) =>
      base(d, { api: { enabled: true, host: '0.0.0.0', port: 0 } }),
    rejectAt: 'api.token',
  },
  {
    name: 'two sinks with one name',
    config: (d) =>
      base(d, {
        sinks: {
          file: [
            { name: 'out', directory: `${d}/out` },
            { name: 'out', directory: `${d}/out2` },
          ],
        },
      }),
    rejectAt: 'sinks.file[1].name',
  },
  {
    name: 'a redis store without a URL',
    config: (d) => base(d, { positions: { store: 'redis' } }),
    rejectAt: 'positions.redis_url',
  },
  {
    name: 'no sink at all',
    config: (d) => base(d, { sinks: { file: [] } }),
    rejectAt: 'sinks',
  },
  {
    name: 'a Loki URL that is not one',
    config: (d) => base(d, { sinks: { loki: [{ url: 'htp:/x' }] } }),
    rejectAt: 'sinks.loki[0].url',
  },
  {
    name: 'a regular expression that does not compile',
    config: (d) =>
      base(d, {
        processing: {
          pipelines: [
            { name: 'p', steps: [{ type: 'regex_extract', pattern: '(a' }] },
          ],
        },
      }),
    rejectAt: 'processing.pipelines[0].steps[0].pattern',
  },
  {
    name: 'spill turned on with a drop policy',
    config: (d) =>
      base(d, {
        dispatcher: { drop_policy: 'drop_newest', spill: { enabled: true } },
      }),
    rejectAt: 'dispatcher.spill.enabled',
  },
  {
    name: 'YAML that does not parse',
    config: () => 'sinks: {file: [{directory: /x}\n',
    rejectAt: '',
  },
  {
    name: 'a config file that does not exist',
    config: (d) => base(d),
    configFile: (d) => join(d, 'missing.yaml'),
    rejectAt: '',
  },
];

let root: TempDir;
interface Outcome {
  readonly validate: RunVerdict;
  readonly run: RunVerdict;
}
const outcomes = new Map<string, Outcome>();

beforeAll(async () => {
  root = await createTempDir('lc-cli-verdicts-');
  // Unprivileged runs must reach their case directories.
  await chmod(root.path, 0o755);
  const user = unprivilegedUser();
  const tasks = CASES.map((c, i) => async () => {
    const dir = join(root.path, `c${i}`);
    await mkdir(join(dir, 'logs'), { recursive: true });
    await chmod(dir, 0o777);
    await chmod(join(dir, 'logs'), 0o777);
    await c.setup?.(dir);
    const config = c.config(dir);
    const file = c.configFile?.(dir) ?? join(dir, 'agent.yaml');
    if (c.configFile === undefined)
      await writeFile(
        file,
        typeof config === 'string' ? config : stringify(config),
      );
    const opts = {
      cwd: dir,
      ...(c.unprivileged === true && user !== undefined ? { user } : {}),
    };
    const validate = await runCli(['validate', '--config', file], opts);
    const run = await runCli(['run', '--config', file], {
      ...opts,
      readyMessage: 'agent started',
    });
    outcomes.set(c.name, { validate, run });
  });
  // Few at a time: the machine is small and shared.
  await inBatches(tasks, 3);
}, 600_000);

afterAll(() => root?.cleanup());

describe('lc-agent validate and run (built binary)', () => {
  it(`should cover at least 20 broken configs`, () => {
    expect(
      CASES.filter((c) => c.rejectAt !== undefined).length,
    ).toBeGreaterThanOrEqual(20);
  });

  for (const c of CASES) {
    const verdict = c.rejectAt === undefined ? 'accept' : 'reject';
    it(`should both ${verdict} ${c.name}${c.rejectAt ? ` (${c.rejectAt || 'the file'})` : ''}`, () => {
      const o = outcomes.get(c.name);
      if (o === undefined) throw new Error(`case did not run: ${c.name}`);
      const why = `validate:\n${o.validate.stdout}${o.validate.stderr}\nrun:\n${o.run.stderr}`;
      if (c.rejectAt === undefined) {
        expect(o.validate.code, why).toBe(0);
        expect(o.validate.stdout, why).toContain('configuration ok');
        expect(o.run.ready, why).toBe(true);
        expect(o.run.stopCode, why).toBe(0);
        if (c.warnAt !== undefined) {
          expect(o.validate.stderr, why).toContain(`warning: ${c.warnAt}: `);
          expect(o.run.stderr, why).toContain(`"msg":"${c.warnAt}: `);
        }
        return;
      }
      expect(o.validate.code, why).toBe(2);
      expect(o.run.ready, why).toBe(false);
      expect(o.run.code, why).toBe(2);
      const named =
        c.rejectAt === ''
          ? /lc-agent: invalid configuration in [^\n]+:\n {2}(invalid YAML|cannot read)/
          : new RegExp(`\\n {2}${c.rejectAt.replace(/[.[\]]/g, '\\$&')}: `);
      expect(o.validate.stderr, why).toMatch(named);
      expect(o.run.stderr, why).toMatch(named);
      // The same problems, worded the same: one check, not two that drift.
      const issues = (text: string) =>
        text.split('\n').filter((l) => l.startsWith('  '));
      expect(issues(o.run.stderr), why).toEqual(issues(o.validate.stderr));
      // One human line per problem: no JSON, no stack.
      expect(o.run.stderr, why).not.toMatch(/"level":60|\n\s+at /);
    });
  }
});
