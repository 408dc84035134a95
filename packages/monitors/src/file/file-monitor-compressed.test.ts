// Generations compressed before the monitor read them to their end, on
// real files (logrotate `compress` without `delaycompress`: rename, gzip,
// remove), with the real file monitor and position manager. The globs
// match the live files only: these `.gz` are found as the compressed
// copies of identities the monitor knows, or as unseen generations.
import {
  appendFileSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FilePosition } from '@lc/core';
import { fingerprintOf } from '@lc/positions';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fileHarness } from '../../test/file-harness.js';
import type { FileHarness } from '../../test/file-harness.js';

const numbered = (from: number, to: number): string => {
  let s = '';
  for (let i = from; i < to; i++) s += `line ${i}\n`;
  return s;
};
const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `line ${from + i}`);

/** Rename `path` to `to`, gzip it to `to.gz` and remove it, as logrotate `compress` does. */
function rotateCompressed(path: string, to: string): void {
  renameSync(path, to);
  writeFileSync(`${to}.gz`, gzipSync(readFileSync(to)));
  rmSync(to);
}

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
  describe('compressed generations', () => {
    it('should finish a closed file that grew and was compressed before it was read again, from its .gz', async () => {
      // Nothing looks at the files but flush(): the rotation lands between two looks.
      h = await fileHarness({
        watch: false,
        pollIntervalMs: 60_000,
        rescanIntervalMs: 60_000,
        idleCloseMs: 0,
      });
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 100));
      await h.monitor.start();
      await h.intake.waitFor(100);
      await h.monitor.flush(); // caught up and idle: closed
      expect(h.monitor.status().find((s) => s.path === path)?.open).toBe(false);
      appendFileSync(path, numbered(100, 150));
      rotateCompressed(path, `${path}.1`);
      writeFileSync(path, numbered(150, 160));
      await h.monitor.flush();
      await h.monitor.flush();
      expect(h.lines()).toEqual(
        expect.arrayContaining([...range(100, 150), ...range(150, 160)]),
      );
      expect(h.lines()).toHaveLength(160);
      expect(h.lines().slice(0, 100)).toEqual(range(0, 100));
    });

    it('should resume a file compressed while down from its .gz at the committed offset, and read unseen compressed generations whole', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 100));
      await h.monitor.start();
      await h.intake.waitFor(100);
      h = await h.restart();
      // Down: app.log grew, was rotated and compressed; the next
      // generation was written, rotated and compressed too.
      appendFileSync(path, numbered(100, 150));
      rotateCompressed(path, `${path}.1`);
      writeFileSync(path, numbered(150, 200));
      rotateCompressed(path, `${path}.2`);
      writeFileSync(path, numbered(200, 210));
      await h.monitor.start();
      await h.intake.waitFor(110);
      await h.monitor.flush();
      expect([...h.lines()].sort()).toEqual(range(100, 210).sort());
    });
    it('should deliver what precedes the damage of a truncated compressed copy and report it with file and offset', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 100));
      await h.monitor.start();
      await h.intake.waitFor(100);
      const registry = new Registry();
      h = await h.restart({ registry });
      // Down: it grew, was rotated and compressed, and the archive was cut
      // (a disk filled up while gzip wrote it).
      appendFileSync(path, numbered(100, 20_000));
      renameSync(path, `${path}.1`);
      const whole = gzipSync(readFileSync(`${path}.1`));
      writeFileSync(`${path}.1.gz`, whole.subarray(0, whole.length >> 1));
      rmSync(`${path}.1`);
      writeFileSync(path, numbered(0, 10).replaceAll('line', 'new'));
      await h.monitor.start();
      await eventually(
        () =>
          h!.monitor
            .status()
            .some(
              (s) => s.path.endsWith('app.log.1.gz') && s.state === 'completed',
            ),
        'the cut .gz finished',
      );
      await h.monitor.flush();
      const old = h.lines().filter((l) => l.startsWith('line '));
      const want = range(100, 20_000);
      // Every complete line from the committed offset up to the damage,
      // then the cut last line; nothing before the offset again.
      expect(old.length).toBeGreaterThan(1000);
      expect(old.slice(0, -1)).toEqual(want.slice(0, old.length - 1));
      expect(want[old.length - 1]?.startsWith(old.at(-1) as string)).toBe(true);
      expect(h.lines().filter((l) => l.startsWith('new '))).toHaveLength(10);
      expect(await errorsOf(registry, 'gzip-truncated')).toBe(1);
      const status = h.monitor
        .status()
        .find((s) => s.path.endsWith('app.log.1.gz'));
      expect(status?.error?.message).toMatch(
        /app\.log\.1\.gz is a truncated gzip file .* at about compressed byte \d+/,
      );
    });

    it("should read a .gz from the saved position of its inode when it holds that position's content", async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      const content = numbered(0, 150);
      // The archive has the inode a position was saved for, with the
      // head of the file it holds: the same content, read to line 100.
      writeFileSync(`${path}.1.gz`, gzipSync(content));
      writeFileSync(path, numbered(150, 160));
      const st = statSync(`${path}.1.gz`, { bigint: true });
      const head = Buffer.from(content).subarray(0, 1024);
      h.positions.upsertFile({
        kind: 'file',
        id: `${st.dev}:${st.ino}`,
        path,
        dev: String(st.dev),
        ino: String(st.ino),
        ...fingerprintOf(head),
        offset: Buffer.byteLength(numbered(0, 100)),
        offsetMarker: '',
        size: Buffer.byteLength(content),
        mtimeMs: 0,
        lastReadAtMs: 0,
        logCount: 100,
        bytesRead: Buffer.byteLength(numbered(0, 100)),
        status: 'active',
        updatedAtMs: Date.now(),
      });
      await h.monitor.start();
      await h.intake.waitFor(60);
      await h.monitor.flush();
      expect([...h.lines()].sort()).toEqual(range(100, 160).sort());
    });

    it("should finish a generation from its .gz when its inode now holds another generation's .gz", async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      const gen10 = numbered(0, 150);
      const gen11 = numbered(150, 300);
      // While down: generation 10 was read to line 100 under its plain
      // name, then compressed; its inode was freed and taken by the .gz
      // the kubelet made of generation 11 (read to line 200 while live).
      writeFileSync(`${path}.10.gz`, gzipSync(gen10));
      writeFileSync(`${path}.11.gz`, gzipSync(gen11));
      writeFileSync(path, numbered(300, 310));
      const st = statSync(`${path}.11.gz`, { bigint: true });
      const position = (
        id: string,
        ino: string,
        at: string,
        content: string,
        upTo: number,
        status: FilePosition['status'],
      ): FilePosition => ({
        kind: 'file',
        id,
        path: at,
        dev: String(st.dev),
        ino,
        ...fingerprintOf(Buffer.from(content).subarray(0, 1024)),
        offset:
          Buffer.byteLength(content.split('\n').slice(0, upTo).join('\n')) + 1,
        offsetMarker: '',
        size: Buffer.byteLength(content),
        mtimeMs: 0,
        lastReadAtMs: 0,
        logCount: upTo,
        bytesRead: 0,
        status,
        updatedAtMs: Date.now(),
      });
      // Generation 11 was live at app.log on an inode that is gone now;
      // its .gz is found (and tracked) first.
      h.positions.upsertFile(
        position(`${st.dev}:999999999`, '999999999', path, gen11, 50, 'active'),
      );
      h.positions.upsertFile(
        position(
          `${st.dev}:${st.ino}`,
          String(st.ino),
          `${path}.10`,
          gen10,
          100,
          'rotated',
        ),
      );
      await h.monitor.start();
      await h.intake.waitFor(50 + 100 + 10);
      await h.monitor.flush();
      expect([...h.lines()].sort()).toEqual(
        [...range(100, 150), ...range(200, 300), ...range(300, 310)].sort(),
      );
    });

    it('should never read, track or save a compressed copy with readCompressed false', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 100));
      await h.monitor.start();
      await h.intake.waitFor(100);
      h = await h.restart({ readCompressed: false });
      appendFileSync(path, numbered(100, 150));
      rotateCompressed(path, `${path}.1`);
      writeFileSync(path, numbered(150, 160));
      rotateCompressed(path, `${path}.2`);
      writeFileSync(path, numbered(160, 170));
      await h.monitor.start();
      await h.intake.waitFor(10);
      await h.monitor.flush();
      expect(h.lines()).toEqual(range(160, 170));
      expect(h.monitor.status().some((s) => s.path.endsWith('.gz'))).toBe(
        false,
      );
      expect(
        h.positions
          .list('file')
          .some((p) => (p as FilePosition).path.endsWith('.gz')),
      ).toBe(false);
    });
  });
});
