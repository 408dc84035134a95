import { execFileSync } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fc, test } from '@fast-check/vitest';
import { freezeLabels } from '@lc/core';
import type { LogRecord } from '@lc/core';
import { createFakeClock, describeSinkContract } from '@lc/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileSink } from './file-sink.js';

const signal = new AbortController().signal;
const T0 = Date.UTC(2026, 10, 23, 17, 13, 37, 123);

function rec(
  line: string,
  opts: {
    labels?: Record<string, string>;
    source?: string;
    kind?: string;
    ms?: number;
    nanos?: number;
  } = {},
): LogRecord {
  return {
    line,
    labels: freezeLabels({ ...(opts.labels ?? {}) }),
    timestampMs: opts.ms ?? T0,
    timestampNanos: opts.nanos ?? 0,
    source: { kind: opts.kind ?? 'file', id: opts.source ?? 'src1' },
  };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out.sort();
}

async function newDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lc-file-sink-'));
}

describeSinkContract('file', async () => {
  const dir = await newDir();
  return {
    sink: createFileSink({ directory: dir, pathTemplate: 'out.log' }),
    readBack: async () =>
      (await readFile(join(dir, 'out.log'), 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { line: string }).line),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('createFileSink', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = await newDir();
    dir = join(root, 'out');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('options', () => {
    it('should reject templates that could escape and unknown placeholders', () => {
      for (const pathTemplate of [
        '../x.log',
        '/etc/x.log',
        'a/../../x',
        './x',
        '{nope}.log',
      ]) {
        expect(() => createFileSink({ directory: dir, pathTemplate })).toThrow(
          /pathTemplate/,
        );
      }
      expect(() =>
        createFileSink({ directory: dir, fsync: 'sometimes' as never }),
      ).toThrow(/fsync/);
    });
  });

  describe('write', () => {
    it('should write one exact JSON line per record with nanoseconds, labels, metadata and source', async () => {
      const sink = createFileSink({
        directory: dir,
        pathTemplate: '{source}.log',
      });
      const r: LogRecord = {
        ...rec('hello "world"\nsecond', {
          labels: { job: 'a' },
          nanos: 456_789,
        }),
        metadata: { trace: 't' },
      };
      expect(await sink.write([r, rec('two')], { signal })).toEqual({
        status: 'success',
      });
      await sink.shutdown();
      const lines = readFileSync(join(dir, 'src1.log'), 'utf8').split('\n');
      expect(lines).toHaveLength(3);
      expect(JSON.parse(lines[0]!)).toEqual({
        timestamp: '2026-11-23T17:13:37.123456789Z',
        line: 'hello "world"\nsecond',
        labels: { job: 'a' },
        metadata: { trace: 't' },
        source: { kind: 'file', id: 'src1' },
      });
      expect(lines[2]).toBe('');
    });

    it('should write text lines, one per record', async () => {
      const sink = createFileSink({
        directory: dir,
        pathTemplate: 'x.txt',
        format: 'text',
      });
      await sink.write([rec('a\nb'), rec('c')], { signal });
      await sink.shutdown();
      expect(readFileSync(join(dir, 'x.txt'), 'utf8')).toBe('a b\nc\n');
    });

    it('should fill every placeholder from the record', async () => {
      const sink = createFileSink({
        directory: dir,
        pathTemplate:
          '{date}/{hour}/{source_kind}-{container_name}-{container_id}-{file_name}-{label:job}.log',
      });
      await sink.write(
        [
          rec('x', {
            kind: 'container',
            source: 'abcdef0123456789ffff',
            labels: {
              container_name: 'web',
              job: 'j',
              filename: '/var/log/app.log',
            },
          }),
        ],
        { signal },
      );
      await sink.shutdown();
      expect(walk(dir).map((p) => relative(dir, p))).toEqual([
        '2026-11-23/17/container-web-abcdef012345-app-j.log',
      ]);
    });

    it('should keep a container named ../../etc inside the directory', async () => {
      const sink = createFileSink({
        directory: dir,
        pathTemplate: '{container_name}/{source}.log',
      });
      const evil = [
        '../../etc',
        '..',
        '../../../../../tmp/pwned',
        '/etc/passwd',
        'a\u0000b\nc',
        '.hidden',
        '..\\..\\x',
      ];
      const result = await sink.write(
        evil.map((name) =>
          rec(name, { labels: { container_name: name }, source: name }),
        ),
        { signal },
      );
      expect(result.status).toBe('success');
      await sink.shutdown();
      const files = walk(dir);
      expect(files).toHaveLength(evil.length);
      for (const f of files) {
        expect(relative(dir, f).startsWith('..')).toBe(false);
        expect(
          relative(dir, f)
            .split('/')
            .every(
              (seg) => seg !== '..' && seg !== '.' && !seg.startsWith('.'),
            ),
        ).toBe(true);
      }
      expect(walk(root).every((f) => f.startsWith(`${dir}/`))).toBe(true);
      expect(existsSync('/tmp/pwned.log')).toBe(false);
    });

    test.prop([fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 })], {
      numRuns: 40,
    })(
      'should never write outside the directory whatever the substituted values',
      async (name, id) => {
        const d = await newDir();
        try {
          const sink = createFileSink({
            directory: join(d, 'o'),
            pathTemplate: '{container_name}/{label:x}-{source}.log',
          });
          const result = await sink.write(
            [rec('l', { labels: { container_name: name, x: id }, source: id })],
            { signal },
          );
          await sink.shutdown();
          expect(result.status).toBe('success');
          const files = walk(d);
          expect(files).toHaveLength(1);
          expect(files[0]!.startsWith(join(d, 'o') + '/')).toBe(true);
        } finally {
          await rm(d, { recursive: true, force: true });
        }
      },
    );

    it('should rotate by size, keep every line once and in order, gzip and keep maxFiles', async () => {
      const sink = createFileSink({
        directory: dir,
        pathTemplate: 'app.log',
        format: 'text',
        rotation: { maxBytes: 1000, gzip: true, maxFiles: 3 },
      });
      const all: string[] = [];
      for (let b = 0; b < 20; b++) {
        const batch = Array.from({ length: 5 }, (_, i) =>
          rec(`b${b}-r${i}-${'x'.repeat(30)}`),
        );
        all.push(...batch.map((r) => r.line));
        expect((await sink.write(batch, { signal })).status).toBe('success');
      }
      await sink.flush();
      await sink.shutdown();
      const names = (await readdir(dir)).sort();
      const rotated = names.filter((n) => n !== 'app.log');
      expect(rotated).toHaveLength(3);
      expect(rotated.every((n) => n.endsWith('.gz'))).toBe(true);
      const kept = [
        ...rotated.map((n) =>
          gunzipSync(readFileSync(join(dir, n))).toString('utf8'),
        ),
        readFileSync(join(dir, 'app.log'), 'utf8'),
      ]
        .join('')
        .split('\n')
        .filter((l) => l !== '');
      // Retention dropped the oldest files; what is left is a contiguous suffix.
      expect(kept).toEqual(all.slice(all.length - kept.length));
      for (const n of rotated)
        expect(
          gunzipSync(readFileSync(join(dir, n))).length,
        ).toBeLessThanOrEqual(1000);
    });

    it('should rotate by time on the injected clock', async () => {
      const clock = createFakeClock(T0);
      const sink = createFileSink({
        directory: dir,
        pathTemplate: 'app.log',
        format: 'text',
        clock,
        rotation: { intervalMs: 60_000 },
      });
      await sink.write([rec('one')], { signal });
      clock.advance(30_000);
      await sink.write([rec('two')], { signal });
      clock.advance(31_000);
      await sink.write([rec('three')], { signal });
      await sink.shutdown();
      const names = (await readdir(dir)).sort();
      expect(names).toHaveLength(2);
      expect(readFileSync(join(dir, 'app.log'), 'utf8')).toBe('three\n');
      expect(
        readFileSync(
          join(
            dir,
            names.find((n) => n !== 'app.log')!,
          ),
          'utf8',
        ),
      ).toBe('one\ntwo\n');
    });

    it('should keep at most maxOpenFiles handles open and still write every file', async () => {
      const sink = createFileSink({
        directory: dir,
        pathTemplate: '{source}.log',
        format: 'text',
        maxOpenFiles: 2,
      });
      const openHandles = (): number =>
        readdirSync('/proc/self/fd').filter((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
          } catch {
            return false;
          }
        }).length;
      for (let round = 0; round < 3; round++) {
        for (let s = 0; s < 5; s++) {
          await sink.write([rec(`r${round}`, { source: `s${s}` })], { signal });
          expect(openHandles()).toBeLessThanOrEqual(2);
        }
      }
      await sink.shutdown();
      expect(openHandles()).toBe(0);
      for (let s = 0; s < 5; s++)
        expect(readFileSync(join(dir, `s${s}.log`), 'utf8')).toBe(
          'r0\nr1\nr2\n',
        );
    });

    it('should cut a torn last line left by a crash before appending', async () => {
      execFileSync('mkdir', ['-p', dir]);
      writeFileSync(join(dir, 'app.log'), '{"line":"whole"}\n{"line":"tor');
      const sink = createFileSink({ directory: dir, pathTemplate: 'app.log' });
      await sink.write([rec('next')], { signal });
      await sink.shutdown();
      const lines = readFileSync(join(dir, 'app.log'), 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      expect(
        lines.map((l) => (JSON.parse(l) as { line: string }).line),
      ).toEqual(['whole', 'next']);
    });

    it('should resolve retryable LC_ERR_DISK_FULL when the device is full', async () => {
      execFileSync('mkdir', ['-p', dir]);
      symlinkSync('/dev/full', join(dir, 'full.log'));
      const sink = createFileSink({
        directory: dir,
        pathTemplate: '{source}.log',
      });
      const result = await sink.write(
        [rec('a', { source: 'full' }), rec('b', { source: 'ok' })],
        { signal },
      );
      expect(result.status).toBe('partial');
      if (result.status === 'partial') {
        expect(result.failed).toHaveLength(1);
        expect(result.failed[0]).toMatchObject({
          index: 0,
          retryable: true,
          error: { code: 'LC_ERR_DISK_FULL' },
        });
        expect(result.failed[0]!.error.message).toMatch(/no space left/);
      }
      await sink.shutdown();
      expect(readFileSync(join(dir, 'ok.log'), 'utf8')).toContain('"line":"b"');
    });
  });
});

function canMountTmpfs(): boolean {
  const probe = join(tmpdir(), `lc-mount-probe-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', probe]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', probe], {
      stdio: 'ignore',
    });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('rmdir', [probe]);
  }
}

// A real full filesystem needs mount rights (root); the /dev/full test above runs everywhere.
describe.skipIf(!canMountTmpfs())('createFileSink on a full tmpfs', () => {
  let mnt: string;
  beforeEach(async () => {
    mnt = await newDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  });
  afterEach(async () => {
    execFileSync('umount', [mnt]);
    await rm(mnt, { recursive: true, force: true });
  });

  it('should leave only whole lines when the disk fills and succeed once space is freed', async () => {
    writeFileSync(join(mnt, 'ballast'), Buffer.alloc(8 * 1024));
    const sink = createFileSink({
      directory: mnt,
      pathTemplate: 'app.log',
      fsync: 'always',
    });
    let full = 0;
    let written = 0;
    for (let i = 0; i < 200 && full === 0; i++) {
      const batch = Array.from({ length: 10 }, (_, j) =>
        rec(`${i}-${j}-${'y'.repeat(100)}`),
      );
      const result = await sink.write(batch, { signal });
      if (result.status === 'success') written += batch.length;
      else {
        expect(result).toMatchObject({
          status: 'retryable',
          error: { code: 'LC_ERR_DISK_FULL' },
        });
        full++;
      }
    }
    expect(full).toBe(1);
    const lines = readFileSync(join(mnt, 'app.log'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(written);
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();
    unlinkSync(join(mnt, 'ballast'));
    expect((await sink.write([rec('after')], { signal })).status).toBe(
      'success',
    );
    await sink.shutdown();
    const after = readFileSync(join(mnt, 'app.log'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(after).toHaveLength(written + 1);
  });
});
