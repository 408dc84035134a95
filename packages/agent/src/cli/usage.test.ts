import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configureUsage, integerOption, runProgram } from './usage.js';

let stdout: string;
let stderr: string;
beforeEach(() => {
  stdout = '';
  stderr = '';
  process.exitCode = undefined;
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** A program shaped like lc-agent's: configured first, then commands. */
async function run(...args: string[]): Promise<number> {
  const argv = ['node', 'lc-agent', ...args];
  const program = new Command('lc-agent').version('1.2.3', '-v, --version');
  configureUsage(program, argv);
  program
    .command('list')
    .option('--json', 'JSON')
    .option('--limit <n>', 'most', integerOption(0), 50)
    .action((opts: { limit: number }) => {
      process.stdout.write(`limit ${opts.limit}\n`);
    });
  program
    .command('inspect <directory>')
    .option('--json', 'JSON')
    .action(() => {
      throw Object.assign(new Error('disk gone', { cause: new Error('EIO') }), {
        stack: 'SHOULD NOT BE PRINTED',
      });
    });
  await runProgram(program, argv);
  return Number(process.exitCode ?? 0);
}

describe('runProgram', () => {
  it('should exit 2 for every usage error, with the reason on stderr', async () => {
    expect(await run('bogus')).toBe(2);
    expect(stderr).toContain("unknown command 'bogus'");
    expect(await run('list', '--bogus')).toBe(2);
    expect(stderr).toContain("unknown option '--bogus'");
    expect(await run('inspect')).toBe(2);
    expect(stderr).toContain("missing required argument 'directory'");
    expect(await run('list', '--limit', 'ten')).toBe(2);
    expect(stderr).toContain('expected an integer >= 0');
    expect(await run()).toBe(2);
    expect(stdout).toBe('');
  });

  it('should exit 0 for help and version, and run a good command', async () => {
    expect(await run('--help')).toBe(0);
    expect(await run('-v')).toBe(0);
    expect(stdout).toContain('1.2.3');
    expect(await run('list', '--limit', '3')).toBe(0);
    expect(stdout).toContain('limit 3');
  });

  it('should print usage errors as JSON on stdout when --json is given, and nothing else', async () => {
    expect(await run('list', '--json', '--limit', '-1')).toBe(2);
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      errors: [
        {
          message: expect.stringContaining(
            "option '--limit <n>' argument '-1' is invalid",
          ) as string,
        },
      ],
    });
    expect(stderr).toBe('');
  });

  it('should turn an error a command throws into one line and exit 1, or JSON with --json', async () => {
    expect(await run('inspect', '/x')).toBe(1);
    expect(stderr).toBe('lc-agent: disk gone: EIO\n');
    stderr = '';
    expect(await run('inspect', '/x', '--json')).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      errors: [{ message: 'disk gone: EIO' }],
    });
    expect(stderr).toBe('');
  });
});
