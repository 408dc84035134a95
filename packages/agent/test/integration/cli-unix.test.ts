// lc-agent behaves like a Unix tool (built binary, real processes): a closed
// stdout ends a command quietly with exit 0; usage errors exit 2; `--json`
// prints JSON on every outcome; read-only commands create nothing; a fatal
// start error is one human line with exit 1.
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { agentChildEnv, createTempDir, shebangNodeFlags } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN } from './agent-process.js';
import { runCli } from './cli-process.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await createTempDir('lc-cli-unix-');
});
afterEach(() => tmp.cleanup());

const cli = (...args: string[]) => runCli(args, { cwd: tmp.path });
const NODE = [process.execPath, ...shebangNodeFlags(BIN), BIN];

/** Every path under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      out.push(relative(dir, join(d, e.name)));
      if (e.isDirectory()) await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return out.sort();
}

describe('lc-agent (built binary) as a Unix tool', () => {
  describe('closed stdout', () => {
    it('should exit 0 without a word when the reader of stdout is gone', async () => {
      const child = spawn(NODE[0] as string, [...NODE.slice(1), 'schema'], {
        cwd: tmp.path,
        env: agentChildEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Close our end before it writes: every write it makes fails with EPIPE.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise((r) =>
        child.on('exit', (c, s) => r(c ?? s)),
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);
    });

    it('should exit 0 in `lc-agent schema | head -1` (a schema larger than a pipe holds)', async () => {
      const { stdout } = await promisify(execFile)(
        'bash',
        [
          '-c',
          'set -o pipefail; "$@" schema 2>"$ERR" | head -1; echo "rc=$?"; cat "$ERR"',
          'lc-agent',
          ...NODE,
        ],
        {
          cwd: tmp.path,
          env: { ...agentChildEnv(), ERR: join(tmp.path, 'err') },
        },
      );
      expect(stdout).toBe('{\nrc=0\n');
    });
  });

  describe('usage errors', () => {
    const table: [args: string[], says: string][] = [
      [['bogus'], "unknown command 'bogus'"],
      [['validate', '--bogus'], "unknown option '--bogus'"],
      [['run', '--bogus'], "unknown option '--bogus'"],
      [['buffer', 'inspect'], "missing required argument 'directory'"],
      [['dlq', 'list', '--limit', 'ten'], "argument 'ten' is invalid"],
      [[], 'Usage: lc-agent'],
    ];
    for (const [args, says] of table) {
      it(`should exit 2 for \`lc-agent ${args.join(' ')}\``, async () => {
        const r = await cli(...args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(says);
        expect(await tree(tmp.path)).toEqual([]);
      });
    }

    it('should exit 0 for --help and --version', async () => {
      expect((await cli('--help')).code).toBe(0);
      const v = await cli('--version');
      expect(v.code).toBe(0);
      expect(v.stdout).toMatch(/^\d+\.\d+\.\d+/);
    });
  });

  describe('--json', () => {
    it('should print JSON on success and on every kind of error', async () => {
      await writeFile(
        join(tmp.path, 'bad.yaml'),
        'sinks: {file: [{directory: ./o, path_template: "../x/{file_name}"}]}\ndispatcher: {workerz: 1}\n',
      );
      await writeFile(
        join(tmp.path, 'good.yaml'),
        `app: {data_dir: ${tmp.path}/data}\nsinks: {stdout: [{}]}\n`,
      );
      const bad = join(tmp.path, 'bad.yaml');
      const cases: [args: string[], code: number][] = [
        [['validate', '--json', '--config', bad], 2],
        [['validate', '--json', '--config', join(tmp.path, 'nope.yaml')], 2],
        [['positions', 'list', '--json', '--config', bad], 2],
        [['dlq', 'list', '--json', '--config', bad], 2],
        [['dlq', 'list', '--json', '--limit', 'x'], 2],
        [['validate', '--json', '--bogus'], 2],
        [['buffer', 'inspect', join(tmp.path, 'none'), '--json'], 2],
        [['buffer', 'inspect', tmp.path, '--json'], 2],
      ];
      for (const [args, code] of cases) {
        const r = await cli(...args);
        const what = `${args.join(' ')}\n${r.stdout}${r.stderr}`;
        expect(r.code, what).toBe(code);
        const body = JSON.parse(r.stdout) as {
          ok: boolean;
          errors: { path?: string; message: string }[];
        };
        expect(body.ok, what).toBe(false);
        expect(body.errors.length, what).toBeGreaterThan(0);
        for (const e of body.errors) expect(typeof e.message).toBe('string');
      }
      const invalid = JSON.parse(
        (await cli('validate', '--json', '--config', bad)).stdout,
      ) as unknown;
      expect(invalid).toEqual({
        ok: false,
        errors: [
          {
            path: 'dispatcher.workerz',
            message: 'unknown key "workerz", did you mean "workers"?',
          },
        ],
        warnings: [],
      });
      const good = await cli(
        'validate',
        '--json',
        '--config',
        join(tmp.path, 'good.yaml'),
      );
      expect(good.code).toBe(0);
      expect(JSON.parse(good.stdout)).toMatchObject({
        ok: true,
        config: { app: { data_dir: `${tmp.path}/data` } },
        warnings: [],
      });
    });
  });

  describe('read-only commands', () => {
    it('should create no file or directory, whatever they are pointed at', async () => {
      const dir = join(tmp.path, 'work');
      await mkdir(dir);
      const config = join(tmp.path, 'agent.yaml');
      await writeFile(
        config,
        `app: {data_dir: ${dir}/data}\nsources: {files: [{include: ["${dir}/logs/*.log"]}]}\nsinks: {file: [{directory: ${dir}/out}]}\n`,
      );
      const before = await tree(tmp.path);
      const commands: string[][] = [
        ['validate', '--config', config],
        ['validate', '--json', '--config', config],
        ['validate'], // the embedded default: ./data, ./logs
        ['schema'],
        ['positions', 'list', '--config', config],
        ['positions', 'list', '--json'],
        ['dlq', 'list', '--config', config],
        ['dlq', 'list', '--json', '--config', config],
        ['dlq', 'purge', '--config', config],
        ['buffer', 'inspect', join(dir, 'data', 'wal')],
        ['buffer', 'inspect', join(dir, 'data', 'dlq'), '--json'],
        ['buffer', 'inspect', dir],
      ];
      for (const args of commands) {
        const r = await runCli(args, { cwd: dir });
        expect([0, 2], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
        expect(await tree(tmp.path), args.join(' ')).toEqual(before);
      }
      const listed = await runCli(
        ['dlq', 'list', '--json', '--config', config],
        {
          cwd: dir,
        },
      );
      expect(JSON.parse(listed.stdout)).toEqual({ total: 0, entries: [] });
    });
  });

  describe('fatal start errors', () => {
    let server: Server | undefined;
    afterEach(
      () => new Promise<void>((r) => (server ? server.close(() => r()) : r())),
    );

    it('should print one human line naming the key, then exit 1', async () => {
      server = createServer();
      await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      const config = join(tmp.path, 'agent.yaml');
      await writeFile(
        config,
        `app: {data_dir: ${tmp.path}/data}\napi: {port: ${port}}\nsinks: {stdout: [{}]}\n`,
      );
      const r = await runCli(['run', '--config', config], { cwd: tmp.path });
      expect(r.code).toBe(1);
      const human = r.stderr.split('\n').filter((l) => !l.startsWith('{'));
      expect(human).toEqual([
        `lc-agent: failed to start: api.port: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port} (exit 1)`,
        '',
      ]);
      expect(r.stderr).not.toMatch(/"level":60|\n\s+at /);
    });

    it('should print one line for an uncaught exception, stop cleanly and exit 1', async () => {
      // A bug, injected into the real process: SIGUSR2 throws from a callback.
      const fault = `data:text/javascript,${encodeURIComponent(
        "process.on('SIGUSR2', () => setImmediate(() => { throw new Error(\"boom: cannot open /x: EACCES: permission denied\", { cause: Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }) }); }));",
      )}`;
      const config = join(tmp.path, 'agent.yaml');
      await writeFile(
        config,
        `app: {data_dir: ${tmp.path}/data}\napi: {enabled: false}\nsinks: {stdout: [{}]}\n`,
      );
      const r = await runCli(['run', '--config', config], {
        cwd: tmp.path,
        nodeArgs: ['--import', fault],
        readyMessage: 'agent started',
        onReady: (child) => {
          child.kill('SIGUSR2');
          return Promise.resolve();
        },
      });
      expect(r.stopCode, r.stderr).toBe(1);
      const human = r.stderr.split('\n').filter((l) => !l.startsWith('{'));
      expect(human).toEqual([
        'lc-agent: uncaught exception: boom: cannot open /x: EACCES: permission denied; stopping the agent (exit 1; app.log_level: debug logs the stack)',
        '',
      ]);
      expect(r.stderr).toContain('"msg":"agent stopped"');
      expect(r.stderr).not.toMatch(/"level":60|\n\s+at /);
    });

    it('should leave no lock behind when it rejects the config', async () => {
      const config = join(tmp.path, 'agent.yaml');
      await writeFile(
        config,
        `app: {data_dir: ${tmp.path}/data}\nsources: {files: [{include: ["${tmp.path}/{x.log"]}]}\nsinks: {stdout: [{}]}\n`,
      );
      const r = await runCli(['run', '--config', config], { cwd: tmp.path });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        'sources.files[0].include[0]: not a valid glob',
      );
      expect(
        await readdir(join(tmp.path, 'data')).catch(() => []),
      ).not.toContain('lc-agent.lock');
    });
  });
});
