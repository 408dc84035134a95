// Compressed files on real files: gzip archives written by node's zlib and
// by the `gzip` CLI (as logrotate's `compress` does), a rotation that
// compresses a file already read (in this process and while the monitor
// was down), truncated and corrupt archives, an archive still being
// written, and restarts.
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Logger } from '@lc/core';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileHarness } from '../../test/file-harness.js';
import { eventually, fileHarness } from '../../test/file-harness.js';

const numbered = (from: number, to: number, prefix = 'line') =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}\n`).join(
    '',
  );
const lines = (from: number, to: number, prefix = 'line') =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}`);

/** Write a file whose mtime is a minute old (settled: not being written). */
function writeOld(path: string, data: Buffer | string): void {
  writeFileSync(path, data);
  const past = new Date(Date.now() - 60_000);
  utimesSync(path, past, past);
}

interface Logged {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

function capturingLogger(out: Logged[]): Logger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      if (typeof obj === 'string') out.push({ level, msg: obj, obj: {} });
      else
        out.push({
          level,
          msg: msg ?? '',
          obj: obj as Record<string, unknown>,
        });
    };
  const logger: Logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
  };
  return logger;
}

const completed = (h: FileHarness, name: string) => () =>
  h.monitor
    .status()
    .some((s) => s.path.endsWith(name) && s.state === 'completed');

async function errorsOf(registry: Registry, kind: string): Promise<number> {
  const metric = await registry.getSingleMetric('lc_file_errors_total')?.get();
  return metric?.values.find((v) => v.labels.kind === kind)?.value ?? 0;
}

let h: FileHarness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('createFileMonitor', () => {
  describe('compressed files', () => {
    it('should read a .gz whole, once, and skip it after a restart and on rescans', async () => {
      h = await fileHarness({ include: ['/nonexistent/*.log'] });
      const d = h.dir.path;
      h = await h.restart({ include: [`${d}/*.gz`] });
      writeOld(join(d, 'old.log.1.gz'), gzipSync(numbered(0, 5000)));
      await h.monitor.start();
      await h.intake.waitFor(5000);
      expect(h.lines()).toEqual(lines(0, 5000));
      await eventually(completed(h, 'old.log.1.gz'), 'gz completed');
      // Rescans (every 200 ms here) do not track it again.
      const registry = new Registry();
      h = await h.restart({ include: [`${d}/*.gz`], registry });
      await h.monitor.start();
      await eventually(completed(h, 'old.log.1.gz'), 'gz known as done');
      await h.monitor.flush();
      expect(h.lines()).toEqual([]);
      const read = await registry
        .getSingleMetric('lc_file_read_bytes_total')
        ?.get();
      expect(read?.values[0]?.value ?? 0).toBe(0);
    });

    it('should not read again a file rotated and compressed by the gzip CLI after it was read', async () => {
      h = await fileHarness({ include: ['/nonexistent/*.log'] });
      const d = h.dir.path;
      h = await h.restart({ include: [`${d}/app.log`, `${d}/*.gz`] });
      const live = join(d, 'app.log');
      writeFileSync(live, numbered(0, 3000));
      await h.monitor.start();
      await h.intake.waitFor(3000);
      // logrotate with compress (no delaycompress): rename, create, gzip.
      renameSync(live, join(d, 'app.log.1'));
      writeFileSync(live, numbered(0, 100, 'new'));
      execFileSync('gzip', [join(d, 'app.log.1')]);
      await h.intake.waitFor(3100);
      await eventually(completed(h, 'app.log.1.gz'), 'gz handled');
      await h.monitor.flush();
      expect(h.lines().filter((l) => l.startsWith('line '))).toEqual(
        lines(0, 3000),
      );
      expect(h.lines().filter((l) => l.startsWith('new '))).toEqual(
        lines(0, 100, 'new'),
      );
    });

    /**
     * 2,000 lines of `app.log` read, then, while the monitor is down, 500
     * more appended and `rotate(live, dir)` run (it compresses them into
     * `app.log.1.gz` and leaves 10 new lines at `app.log`): after the
     * restart, the `.gz` gives only the 500 lines not read, once.
     */
    async function readOnlyUnreadOfGz(
      rotate: (live: string, dir: string) => void,
    ): Promise<void> {
      let g = await fileHarness({ include: ['/nonexistent/*.log'] });
      h = g;
      const d = g.dir.path;
      const include = [`${d}/app.log`, `${d}/*.gz`];
      g = h = await g.restart({ include });
      const live = join(d, 'app.log');
      writeFileSync(live, numbered(0, 2000));
      await g.monitor.start();
      await g.intake.waitFor(2000);
      await g.monitor.flush();
      const before = g.lines();
      await g.monitor.shutdown();
      appendFileSync(live, numbered(2000, 2500));
      rotate(live, d);
      g = h = await g.restart({ include });
      await g.monitor.start();
      await g.intake.waitFor(510);
      await eventually(completed(g, 'app.log.1.gz'), 'gz read');
      await g.monitor.flush();
      expect(
        [...before, ...g.lines()].filter((l) => l.startsWith('line ')),
      ).toEqual(lines(0, 2500));
      expect(g.lines().filter((l) => l.startsWith('new '))).toEqual(
        lines(0, 10, 'new'),
      );
    }

    it('should read from a compressed file only what was not read of it before a restart', async () => {
      await readOnlyUnreadOfGz((live, d) => {
        // Rotated by rename, then compressed; a new file at the path.
        renameSync(live, join(d, 'app.log.1'));
        execFileSync('gzip', [join(d, 'app.log.1')]);
        writeFileSync(live, numbered(0, 10, 'new'));
      });
    });

    it('should read from the .gz of a file copytruncated and compressed while down only what was not read, its inode now holding new lines', async () => {
      // The saved identity's inode holds other content at restart (here by
      // copytruncate; a new file that reuses a freed inode looks the same)
      // and the globs match the .gz too, so it is tracked before it is found
      // as that identity's copy: the reset of the inode must not make it
      // read whole.
      await readOnlyUnreadOfGz((live, d) => {
        // logrotate `copytruncate` + `compress`.
        const ino = statSync(live).ino;
        writeFileSync(join(d, 'app.log.1.gz'), gzipSync(readFileSync(live)));
        writeFileSync(live, numbered(0, 10, 'new'));
        expect(statSync(live).ino).toBe(ino);
      });
    });

    it('should hold a .gz that holds a file still being read, also when it is renamed meanwhile', async () => {
      h = await fileHarness({ include: ['/nonexistent/*.log'] });
      const d = h.dir.path;
      const logged: Logged[] = [];
      h = await h.restart({
        include: [`${d}/app.log`, `${d}/*.gz`],
        logger: capturingLogger(logged),
      });
      const live = join(d, 'app.log');
      writeFileSync(live, numbered(0, 1000));
      await h.monitor.start();
      await h.intake.waitFor(1000);
      // A snapshot of the live file, as `gzip -c app.log > snap.gz` makes.
      writeFileSync(join(d, 'snap.gz'), gzipSync(readFileSync(live)));
      const waiting = (name: string) => () =>
        logged.some(
          (l) =>
            l.msg.includes('waits for that file') &&
            l.obj.path === join(d, name),
        );
      await eventually(waiting('snap.gz'), 'the .gz waiting');
      renameSync(join(d, 'snap.gz'), join(d, 'snap2.gz'));
      await eventually(waiting('snap2.gz'), 'the renamed .gz waiting');
      appendFileSync(live, numbered(1000, 1010));
      await h.intake.waitFor(1010);
      await h.monitor.flush();
      expect(h.lines()).toEqual(lines(0, 1010));
    });

    it('should deliver what precedes the end of a truncated .gz, report it with file and offset, and not retry after a restart', async () => {
      h = await fileHarness({ include: ['/nonexistent/*.log'] });
      const d = h.dir.path;
      const logged: Logged[] = [];
      const registry = new Registry();
      h = await h.restart({
        include: [`${d}/*.gz`],
        logger: capturingLogger(logged),
        registry,
      });
      const whole = gzipSync(numbered(0, 20_000));
      writeOld(join(d, 'cut.log.gz'), whole.subarray(0, whole.length >> 1));
      await h.monitor.start();
      await eventually(completed(h, 'cut.log.gz'), 'truncated gz finished');
      await h.monitor.flush();
      const got = h.lines();
      const expected = lines(0, 20_000);
      // Every complete line up to the damage, then the cut last line.
      expect(got.length).toBeGreaterThan(1000);
      expect(got.slice(0, -1)).toEqual(expected.slice(0, got.length - 1));
      expect(expected[got.length - 1]?.startsWith(got.at(-1) as string)).toBe(
        true,
      );
      expect(await errorsOf(registry, 'gzip-truncated')).toBe(1);
      const warn = logged.find((l) => l.msg.includes('damaged .gz'));
      expect(warn?.obj).toMatchObject({
        path: join(d, 'cut.log.gz'),
        reason: 'truncated',
      });
      expect(warn?.obj.compressedOffset).toBeGreaterThan(0);
      const status = h.monitor
        .status()
        .find((s) => s.path.endsWith('cut.log.gz'));
      expect(status?.error?.message).toMatch(
        /cut\.log\.gz is a truncated gzip/,
      );
      h = await h.restart({ include: [`${d}/*.gz`] });
      await h.monitor.start();
      await eventually(completed(h, 'cut.log.gz'), 'known as done');
      await h.monitor.flush();
      expect(h.lines()).toEqual([]);
    });

    it('should deliver the lines before the damage of a corrupt .gz and report it', async () => {
      h = await fileHarness({ include: ['/nonexistent/*.log'] });
      const d = h.dir.path;
      const logged: Logged[] = [];
      const registry = new Registry();
      h = await h.restart({
        include: [`${d}/*.gz`],
        logger: capturingLogger(logged),
        registry,
      });
      const bad = Buffer.from(gzipSync(numbered(0, 50_000)));
      const at = Math.floor(bad.length * 0.6);
      for (let i = at; i < at + 16; i++) bad[i] = (bad[i] as number) ^ 0xa5;
      writeOld(join(d, 'bad.log.gz'), bad);
      await h.monitor.start();
      await eventually(completed(h, 'bad.log.gz'), 'corrupt gz finished');
      await h.monitor.flush();
      const got = h.lines();
      const expected = lines(0, 50_000);
      // Lines up to the damage arrive intact (the last ones may hold what
      // zlib decoded from the damaged block before it noticed).
      const intact = got.findIndex((l, i) => l !== expected[i]);
      expect(intact === -1 ? got.length : intact).toBeGreaterThan(20_000);
      expect(await errorsOf(registry, 'gzip-corrupt')).toBe(1);
      expect(
        logged.find((l) => l.msg.includes('damaged .gz'))?.obj,
      ).toMatchObject({ path: join(d, 'bad.log.gz'), reason: 'corrupt' });
    });

    it('should wait for a .gz still being written and read it once whole', async () => {
      h = await fileHarness({ include: ['/nonexistent/*.log'] });
      const d = h.dir.path;
      const registry = new Registry();
      h = await h.restart({
        include: [`${d}/*.gz`],
        registry,
        rotatedFileGraceMs: 60_000,
      });
      const whole = gzipSync(numbered(0, 20_000));
      const path = join(d, 'slow.log.gz');
      writeFileSync(path, whole.subarray(0, whole.length >> 1));
      await h.monitor.start();
      // Read as far as it goes (after it settled), then gzip writes on.
      await h.intake.waitFor(1000, 20_000);
      appendFileSync(path, whole.subarray(whole.length >> 1));
      await h.intake.waitFor(20_000, 20_000);
      await eventually(completed(h, 'slow.log.gz'), 'gz finished');
      await h.monitor.flush();
      expect(h.lines()).toEqual(lines(0, 20_000));
      expect(await errorsOf(registry, 'gzip-truncated')).toBe(0);
    });

    it('should skip .gz files present at start with startPosition end, and all of them with readCompressed false', async () => {
      h = await fileHarness({ include: ['/nonexistent/*.log'] });
      const d = h.dir.path;
      writeOld(join(d, 'a.log.1.gz'), gzipSync(numbered(0, 10)));
      writeFileSync(join(d, 'a.log'), 'live\n');
      h = await h.restart({
        include: [`${d}/*.log`, `${d}/*.gz`],
        startPosition: 'end',
        newFileStartPosition: 'beginning',
      });
      await h.monitor.start();
      await eventually(completed(h, 'a.log.1.gz'), 'skipped as history');
      writeOld(join(d, 'b.log.1.gz'), gzipSync(numbered(0, 10, 'b')));
      await h.intake.waitFor(10);
      expect(h.lines()).toEqual(lines(0, 10, 'b'));
      h = await h.restart({
        include: [`${d}/*.log`, `${d}/*.gz`],
        readCompressed: false,
      });
      writeOld(join(d, 'c.log.1.gz'), gzipSync(numbered(0, 10, 'c')));
      appendFileSync(join(d, 'a.log'), 'after\n');
      await h.monitor.start();
      await h.intake.waitFor(1);
      await h.monitor.flush();
      expect(h.lines()).toEqual(['after']);
      expect(h.monitor.status().some((s) => s.path.endsWith('.gz'))).toBe(
        false,
      );
    });
  });
});
