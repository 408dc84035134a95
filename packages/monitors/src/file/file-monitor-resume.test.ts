// Resuming after a restart on real files: committed offsets, rotations and
// copytruncates while down, and acknowledgements that land after a rewrite.
import {
  appendFileSync,
  renameSync,
  truncateSync,
  writeFileSync,
  copyFileSync,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';
import { createCollectingIntake } from '@lc/core/testing';
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

let h: FileHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('createFileMonitor', () => {
  describe('resume', () => {
    it('should resume from the committed offset after a restart, without duplicates', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 10));
      await h.monitor.start();
      await h.intake.waitFor(10);
      h = await h.restart();
      appendFileSync(path, numbered(10, 15));
      await h.monitor.start();
      await h.intake.waitFor(5);
      await h.monitor.flush();
      expect(h.lines()).toEqual(range(10, 15));
    });

    it('should finish a file rotated while down from its saved offset', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 10));
      await h.monitor.start();
      await h.intake.waitFor(10);
      await h.monitor.shutdown();
      appendFileSync(path, numbered(10, 15));
      renameSync(path, join(h.dir.path, 'app.log.1'));
      writeFileSync(path, numbered(15, 20));
      h = await h.restart({ include: [path] });
      await h.monitor.start();
      await h.intake.waitFor(10);
      await h.monitor.flush();
      expect([...h.lines()].sort()).toEqual(range(10, 20).sort());
    });

    it('should read a generation created and rotated away before the last commit of the one it replaced', async () => {
      // Acks land after the read: the last commit of `a` (status active,
      // updatedAtMs = commit time) can come after `b` was created, written
      // and renamed away, all before the monitor looked at the path again
      // (killed in between). `b` is then older than that commit but newer
      // than `a` itself.
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 10));
      await h.monitor.start();
      await h.intake.waitFor(10);
      await h.monitor.shutdown();
      const now = Date.now() / 1000;
      renameSync(path, `${path}.1`);
      utimesSync(`${path}.1`, now - 20, now - 20);
      writeFileSync(path, numbered(10, 15));
      renameSync(path, `${path}.2`);
      utimesSync(`${path}.2`, now - 10, now - 10);
      writeFileSync(path, numbered(15, 20));
      h = await h.restart();
      await h.monitor.start();
      await h.intake.waitFor(10, 5000).catch(() => undefined);
      await h.monitor.flush();
      expect([...h.lines()].sort()).toEqual(range(10, 20).sort());
    });

    it('should read a generation unseen between one saved as rotated and one saved as active', async () => {
      // Killed after the monitor saw `a` rotate and tracked `c`, but `b`
      // (between them) was never seen: backdated here so the live sweep
      // skips it as the kill would have. The restart sweep must reach back
      // to `a`, not only to the newest identity saved at the path.
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      writeFileSync(path, numbered(0, 10));
      await h.monitor.start();
      await h.intake.waitFor(10);
      const now = Date.now() / 1000;
      renameSync(path, `${path}.1`);
      writeFileSync(path, numbered(10, 15));
      renameSync(path, `${path}.2`);
      utimesSync(`${path}.2`, now - 20, now - 20);
      utimesSync(`${path}.1`, now - 30, now - 30);
      writeFileSync(path, numbered(15, 20));
      await h.intake.waitFor(15);
      h = await h.restart();
      renameSync(path, `${path}.3`);
      utimesSync(`${path}.3`, now - 10, now - 10);
      writeFileSync(path, numbered(20, 25));
      await h.monitor.start();
      await h.intake.waitFor(10, 5000).catch(() => undefined);
      await h.monitor.flush();
      expect([...h.lines()].sort()).toEqual(
        range(10, 15).concat(range(20, 25)).sort(),
      );
    });

    it('should resume a copytruncated file from its own commits when acks of the previous content land after the truncation', async () => {
      // The dispatcher acknowledges in arrival order, so the commits of the
      // content before a copytruncate can land after the monitor reset the
      // identity (same dev:ino) to 0. They must not become the position of
      // the new content: a restart would then finish the new content's copy
      // from an offset that belongs to the old one and skip what lies between.
      const held = createCollectingIntake();
      h = await fileHarness({ intake: held });
      const path = join(h.dir.path, 'app.log');
      // Over 1 KiB each: heads are compared as full 1 KiB fingerprints.
      const pad = ' '.repeat(20);
      const wide = (tag: string, from: number, to: number): string =>
        numbered(from, to).replaceAll('line ', `${tag}${pad}line `);
      writeFileSync(path, wide('a', 0, 100));
      await h.monitor.start();
      await held.waitFor(100);
      const a = held.records.slice(0, 100);
      h.positions.commit(a[49]!.source, a[49]!.cursor!);
      // copytruncate, then the new content (as long as the old one).
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      appendFileSync(path, wide('b', 0, 100));
      await held.waitFor(200);
      const b = held.records.slice(100, 200);
      expect(b[0]?.line).toBe(`b${pad}line 0`);
      // Late acks: the end of the old content, then the new content's 20 lines.
      h.positions.commit(a[99]!.source, a[99]!.cursor!);
      h.positions.commit(b[19]!.source, b[19]!.cursor!);
      expect(h.positions.get('file', b[19]!.source.id)).toMatchObject({
        offset: (b[19]!.cursor as { offset: number }).offset,
      });
      // Restart while the new content is copytruncated in turn.
      const after = createCollectingIntake();
      h = await h.restart({ intake: after });
      copyFileSync(path, `${path}.2`);
      truncateSync(path, 0);
      appendFileSync(path, wide('c', 0, 10));
      await h.monitor.start();
      const want = [
        ...range(20, 100).map((l) => `b${pad}${l}`),
        ...range(0, 10).map((l) => `c${pad}${l}`),
      ];
      const missing = (): string[] => {
        const got = new Set(after.records.map((r) => r.line));
        return want.filter((l) => !got.has(l));
      };
      await eventually(() => missing().length === 0, 'b and c').catch(
        () => undefined,
      );
      expect(missing()).toEqual([]);
      // Resumed from the commit, not from 0: no line of b before it again.
      expect(
        after.records.filter((r) => r.line.startsWith(`b${pad}`)),
      ).toHaveLength(80);
    });

    it('should resume the copy from the last commit when lines read before a copytruncate were never acknowledged', async () => {
      // The monitor read the old content to its end through the live file,
      // saw the truncation, found the copy and reset the live identity. The
      // lines after the last commit were in flight when the process died:
      // only the copy still has them, so its position must say where the
      // delivered part ends, not where reading ended.
      const held = createCollectingIntake();
      h = await fileHarness({ intake: held });
      const path = join(h.dir.path, 'app.log');
      const tagged = (tag: string, from: number, to: number): string =>
        numbered(from, to).replaceAll('line ', `${tag} line `);
      writeFileSync(path, tagged('a', 0, 100));
      await h.monitor.start();
      await held.waitFor(100);
      h.positions.commit(held.records[49]!.source, held.records[49]!.cursor!);
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      appendFileSync(path, tagged('b', 0, 10));
      await held.waitFor(110);
      const b = held.records.slice(100);
      h.positions.commit(b[4]!.source, b[4]!.cursor!);
      // Restart without the acknowledgements of a 50..99 and b 5..9.
      const after = createCollectingIntake();
      h = await h.restart({ intake: after });
      await h.monitor.start();
      const want = [
        ...range(50, 100).map((l) => `a ${l}`),
        ...range(5, 10).map((l) => `b ${l}`),
      ];
      const missing = (): string[] => {
        const got = new Set(after.records.map((r) => r.line));
        return want.filter((l) => !got.has(l));
      };
      await eventually(() => missing().length === 0, 'a and b').catch(
        () => undefined,
      );
      expect(missing()).toEqual([]);
      await h.monitor.flush();
      expect([...after.records.map((r) => r.line)].sort()).toEqual(want.sort());
    });

    it('should read every copy when the file is copytruncated twice between two reads', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      const tagged = (tag: string, from: number, to: number): string =>
        numbered(from, to).replaceAll('line ', `${tag} line `);
      writeFileSync(path, tagged('a', 0, 200));
      await h.monitor.start();
      await h.intake.waitFor(200);
      // Two rotations by copytruncate before the monitor looks again.
      appendFileSync(path, tagged('a', 200, 210));
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      appendFileSync(path, tagged('b', 0, 150));
      copyFileSync(path, `${path}.2`);
      truncateSync(path, 0);
      appendFileSync(path, tagged('c', 0, 10));
      const want = [
        ...range(0, 210).map((l) => `a ${l}`),
        ...range(0, 150).map((l) => `b ${l}`),
        ...range(0, 10).map((l) => `c ${l}`),
      ];
      await h.intake.waitFor(want.length, 5000).catch(() => undefined);
      await h.monitor.flush();
      expect([...h.lines()].sort()).toEqual(want.sort());
    });

    it('should finish the copy when the file is copytruncated between the start decision and the first read', async () => {
      h = await fileHarness();
      const path = join(h.dir.path, 'app.log');
      const tagged = (tag: string, from: number, to: number): string =>
        numbered(from, to).replaceAll('line ', `${tag} line `);
      writeFileSync(path, tagged('a', 0, 200));
      await h.monitor.start();
      // start() decided (and fingerprinted) the file; the first read runs on
      // a timer, after these synchronous calls.
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      appendFileSync(path, tagged('b', 0, 10));
      const want = [
        ...range(0, 200).map((l) => `a ${l}`),
        ...range(0, 10).map((l) => `b ${l}`),
      ];
      await h.intake.waitFor(210, 5000).catch(() => undefined);
      await h.monitor.flush();
      expect([...h.lines()].sort()).toEqual(want.sort());
    });
  });
});
