import type { BigIntStats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FilePosition, Logger } from '@lc/core';
import { fileSourceId } from '@lc/positions';
import { headMatches, isCompressedName } from './content-head.js';
import { DirectoryIndexes } from './directory-indexes.js';
import { isUnder } from './discovery.js';
import type { FileMetrics } from './file-metrics.js';
import type { FilePositions } from './file-positions.js';
import type { FileRegistry } from './file-registry.js';
import type { CompiledGlob } from './glob.js';
import type { GzipAdoption } from './gzip-adoption.js';
import { matchesAny } from './glob.js';

/** How far file mtimes may lag the wall clock (kernel clock ticks), ms. */
const MTIME_SLACK_MS = 50;

/** What {@link SiblingSweep} needs from the monitor. */
export interface SiblingSweepContext {
  readonly includes: readonly CompiledGlob[];
  /** Files and directories never read, generations included. */
  readonly excludes: readonly CompiledGlob[];
  readonly selfPaths: readonly string[];
  readonly registry: Pick<FileRegistry, 'byId' | 'track'>;
  readonly positions: Pick<FilePositions, 'list' | 'committed' | 'retire'>;
  readonly metrics: Pick<FileMetrics, 'rotations' | 'errors' | 'unreadBytes'>;
  readonly logger: Logger;
  /** False: `.gz` files are never read (the monitor's `readCompressed`). */
  readonly readCompressed: boolean;
  /** Compressed copies of generations (`.gz` next to them). */
  readonly compressed: Pick<GzipAdoption, 'adopt' | 'isKnown'>;
}

/**
 * Finds generations the monitor did not see rotate (while down, or between
 * two checks) among the siblings of their path, and tracks them to be
 * read to their end.
 */
export class SiblingSweep {
  private readonly includes: readonly CompiledGlob[];
  private readonly excludes: readonly CompiledGlob[];
  private readonly selfPaths: readonly string[];
  private readonly registry: SiblingSweepContext['registry'];
  private readonly positions: SiblingSweepContext['positions'];
  private readonly metrics: SiblingSweepContext['metrics'];
  private readonly logger: Logger;
  private readonly compressed: SiblingSweepContext['compressed'];
  private readonly readCompressed: boolean;

  constructor(ctx: SiblingSweepContext) {
    this.readCompressed = ctx.readCompressed;
    this.includes = ctx.includes;
    this.excludes = ctx.excludes;
    this.compressed = ctx.compressed;
    this.selfPaths = ctx.selfPaths;
    this.registry = ctx.registry;
    this.positions = ctx.positions;
    this.metrics = ctx.metrics;
    this.logger = ctx.logger;
  }

  /** Rotated while the monitor was down: finish saved identities found next to their old path. */
  async recoverRotatedWhileDown(): Promise<void> {
    // One listing per directory, not one per saved position: a directory
    // with hundreds of rotated generations made start-up quadratic.
    const dirs = new DirectoryIndexes();
    for (const saved of this.positions.list()) {
      // Generations the globs do not match are ours when they were
      // being read (rotated) or read to their end (completed) next to
      // matched files: their end may not be acknowledged yet.
      const matched = matchesAny(this.includes, saved.path);
      // Finished and acknowledged to its end: nothing to look for.
      if (
        !matched &&
        saved.status === 'completed' &&
        saved.offset >= saved.size
      )
        continue;
      const wanted =
        matched ||
        ((saved.status === 'rotated' || saved.status === 'completed') &&
          this.includes.some((g) => isUnder(dirname(saved.path), [g.base])));
      const tracked = this.registry.byId.get(saved.id);
      if (tracked !== undefined) {
        // Found at start: the same file, or one that took its inode over
        // (a live file, or the `.gz` of another generation already
        // adopted); then the saved content is gone, maybe to a `.gz` of
        // its own (only looked at when there is one: no read per live
        // file otherwise).
        if (
          wanted &&
          saved.fingerprint !== '' &&
          (await dirs.compressedNear(saved.path)) &&
          !(await headMatches(tracked.path, saved))
        )
          await this.goneWhileDown(saved, dirs, true);
        continue;
      }
      if (!wanted) continue;
      const at = await dirs.find(saved);
      // Not there, or its inode holds other content now (reused).
      if (
        at === undefined ||
        (saved.fingerprint !== '' && !(await headMatches(at.path, saved)))
      ) {
        await this.goneWhileDown(saved, dirs, at !== undefined);
        continue;
      }
      const found = at.path;
      // Not read at all now: its position stays as it is.
      if (isCompressedName(found) && !this.readCompressed) continue;
      let st: BigIntStats;
      try {
        st = await stat(found, { bigint: true });
      } catch {
        continue;
      }
      // A compressed file's size says nothing about its decompressed
      // offsets: it is done once completed and committed to its end.
      const done = isCompressedName(found)
        ? saved.status === 'completed' && saved.offset >= saved.size
        : Number(st.size) <= saved.offset;
      if (done || this.registry.byId.has(saved.id)) continue;
      this.registry.track(found, st, 'finish');
      this.metrics.rotations.inc({ kind: 'rotated-while-down' });
      this.logger.info(
        { path: found, savedPath: saved.path, offset: saved.offset },
        'file monitor: finishing a file rotated while down',
      );
    }
  }

  /**
   * A saved identity is no longer in its directory. If it may have had
   * unread bytes (it was live, or not read to its end), its compressed
   * copy is read from the committed offset; a live identity without one
   * was deleted while down: retired (so its position expires), its unread
   * bytes counted as lost. `inodeReused`: another file has its inode now.
   */
  private async goneWhileDown(
    saved: FilePosition,
    dirs: DirectoryIndexes,
    inodeReused: boolean,
  ): Promise<void> {
    const live = saved.status === 'active' || saved.status === 'idle';
    // Only a completed position's size is final: one saved while draining
    // (rotated, deleted) may be older than what was written after it.
    if (saved.status === 'completed' && saved.offset >= saved.size) return;
    // A reused inode's position is the new file's now (reset when it is
    // opened): only an identity that is really gone is retired.
    const adopted = await this.compressed.adopt(saved);
    if (adopted !== undefined) {
      if (!inodeReused && adopted !== saved.id)
        this.positions.retire(saved, 'rotated');
      return;
    }
    // An unreadable directory says nothing about what is in it.
    if (!live || !dirs.listed(dirname(saved.path))) return;
    if (inodeReused) return;
    this.positions.retire(saved, 'deleted');
    const unread = saved.size - saved.offset;
    if (unread > 0) {
      this.metrics.errors.inc({ kind: 'deleted-unread' });
      this.metrics.unreadBytes.inc(unread);
    }
    this.logger.warn(
      { path: saved.path, committedOffset: saved.offset, unreadBytes: unread },
      'file monitor: a file was deleted while the monitor was down',
    );
  }

  /**
   * Generations rotated away entirely while the monitor was down (created
   * and renamed, or copied by copytruncate, after the last commit) were
   * never seen, so they have no position. Read them from 0: siblings named
   * after a live path (`app.log.1`, `app.log-2024...`), not matched by the
   * include globs, unknown, and modified after a generation the monitor
   * knew at that path.
   *
   * That cut-off is the oldest of, for each saved identity of the path
   * still on disk: its last commit while it lives at the path, or its last
   * write once renamed away next to it. Commits follow delivery acks, so
   * they land after younger generations were created, filled and renamed
   * away unseen (killed before the next check); and an identity saved as
   * rotated may be older than the one saved as active, with unseen
   * generations between the two.
   *
   * `watchedSince(live)` (the path's `file-watch` marker) lowers every
   * cut-off to when watching began, and gives one to live paths no
   * identity was ever saved for: a run killed after it saved a younger
   * identity but before an older generation it had just found leaves no
   * other trace of it, and in a crash loop no run may save any identity.
   * Generations read since are known (positions of finished files are kept
   * for a day, longer than the marker), so only unread ones are read.
   */
  async sweepUnseenGenerations(
    saved: readonly FilePosition[],
    live: readonly string[],
    watchedSince: (live: string) => number | undefined,
  ): Promise<void> {
    const since = new Map<string, number>();
    const active = new Map<string, number>();
    const onDisk = new Map<string, number>();
    const dirs = new DirectoryIndexes();
    for (const p of saved) {
      if (!matchesAny(this.includes, p.path)) continue;
      since.set(p.path, Math.max(since.get(p.path) ?? 0, p.updatedAtMs));
      if (p.status === 'active')
        active.set(p.path, Math.max(active.get(p.path) ?? 0, p.updatedAtMs));
      const at = await dirs.find(p);
      // Identities gone from disk say nothing about what came after them.
      if (at === undefined) continue;
      // One millisecond earlier: a younger generation written within the
      // same millisecond still passes the strict `mtime > since` test.
      const cutoff =
        at.path === p.path
          ? p.updatedAtMs
          : Math.min(p.updatedAtMs, at.mtimeMs - 1);
      onDisk.set(p.path, Math.min(onDisk.get(p.path) ?? Infinity, cutoff));
    }
    const cutoffs = new Map<string, number>();
    for (const [path, sinceAny] of since)
      cutoffs.set(path, onDisk.get(path) ?? active.get(path) ?? sinceAny);
    for (const path of live) {
      const watched = watchedSince(path);
      // One millisecond back: a generation written in the same millisecond.
      if (watched !== undefined)
        cutoffs.set(path, Math.min(cutoffs.get(path) ?? Infinity, watched - 1));
    }
    // One listing per directory, indexed by rotation base: a directory of
    // 10,000 live files was listed once per file (quadratic start-up).
    const listings = new Map<string, SiblingNames | undefined>();
    for (const [path, cutoff] of cutoffs)
      await this.sweepSiblings(path, cutoff, undefined, listings);
  }

  /**
   * Finish, from 0, unknown siblings of `live` (rotation names) modified
   * after `sinceMs`, except copies whose head is `skipHead` (content already
   * read through the live identity).
   */
  async sweepSiblings(
    live: string,
    sinceMs: number,
    skipHead: { fingerprint: string; fingerprintBytes: number } | undefined,
    listings?: Map<string, SiblingNames | undefined>,
  ): Promise<void> {
    {
      const dir = dirname(live);
      let siblings: SiblingNames | undefined;
      if (listings?.has(dir) === true) siblings = listings.get(dir);
      else {
        siblings = await listSiblingNames(dir);
        listings?.set(dir, siblings);
      }
      const names = siblings?.get(basename(live));
      if (names === undefined) return;
      for (const name of names) {
        const path = join(dir, name);
        if (
          matchesAny(this.includes, path) ||
          matchesAny(this.excludes, path) ||
          isUnder(path, this.selfPaths)
        )
          continue;
        let st: BigIntStats;
        try {
          st = await stat(path, { bigint: true });
        } catch {
          continue;
        }
        // File times come from the kernel's coarse clock, up to a tick
        // behind the wall clock the monitor reads: a generation written
        // just after its last check can carry an earlier mtime.
        if (!st.isFile() || Number(st.mtimeMs) <= sinceMs - MTIME_SLACK_MS)
          continue;
        const id = fileSourceId(st.dev.toString(), st.ino.toString());
        if (this.registry.byId.has(id)) continue;
        const known = this.positions.committed(id);
        if (known !== undefined && (await headMatches(path, known))) continue;
        if (isCompressedName(name)) {
          // A compressed generation of known content is the identity it
          // was compressed from (adopted, or read, as that one).
          if (await this.compressed.isKnown(path, skipHead)) continue;
        } else if (
          skipHead !== undefined &&
          skipHead.fingerprintBytes > 0 &&
          (await headMatches(path, skipHead))
        )
          continue;
        this.registry.track(path, st, 'finish');
        this.metrics.rotations.inc({ kind: 'rotated-while-down' });
        this.logger.info(
          { path, livePath: live },
          'file monitor: reading a generation rotated away while down',
        );
      }
    }
  }
}

/** Names in a directory by the base they are a rotation name of (`app.log.1` under `app.log`). */
type SiblingNames = Map<string, string[]>;

/**
 * The names of `dir` by each base they may be a generation of: the name
 * cut at each `.` or `-` (`a.log.1` under `a` and `a.log`). Undefined when
 * the directory cannot be read.
 */
async function listSiblingNames(
  dir: string,
): Promise<SiblingNames | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const byBase: SiblingNames = new Map();
  for (const name of names) {
    for (let i = 1; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c !== 46 /* . */ && c !== 45 /* - */) continue;
      const base = name.slice(0, i);
      const list = byBase.get(base);
      if (list === undefined) byBase.set(base, [name]);
      else list.push(name);
    }
  }
  return byBase;
}
