import type { Clock } from '@lc/core';
import type { ResolvedFileMonitorOptions } from '../file-monitor-options.js';
import type { FilePositions } from './file-positions.js';
import type { FileRegistry } from './file-registry.js';
import type { FileResume } from './file-resume.js';
import type { FileScanner } from './file-scanner.js';
import { compileGlob, matchesAny } from './glob.js';
import type { OpenFiles } from './open-files.js';
import type { SiblingSweep } from './sibling-sweep.js';

/** What {@link startFiles} needs from the monitor. */
export interface FileStartupContext {
  readonly options: Pick<
    ResolvedFileMonitorOptions,
    'include' | 'startPosition'
  >;
  readonly clock: Clock;
  readonly positions: FilePositions;
  readonly files: FileRegistry;
  readonly openFiles: Pick<OpenFiles, 'open'>;
  readonly scanner: Pick<FileScanner, 'rescan' | 'rotatedAtStart'>;
  readonly sweep: Pick<
    SiblingSweep,
    'recoverRotatedWhileDown' | 'sweepUnseenGenerations'
  >;
  readonly resume: Pick<FileResume, 'initialize'>;
  /** Filled with the paths that had a saved identity at start. */
  readonly savedPaths: Set<string>;
  /** A read buffer for start decisions. */
  readonly buf: Buffer;
  readonly isStopped: () => boolean;
}

/**
 * The monitor's first pass, before any background read: record since when
 * the globs are watched (durable before any file is opened, so a restart
 * after a crash loop knows which rotated generations are ours), discover
 * files, finish identities rotated (or compressed) while down, decide
 * every plain file's start offset, then read generations rotated away
 * unseen.
 */
export async function startFiles(ctx: FileStartupContext): Promise<void> {
  const { options: o, positions, files } = ctx;
  if (positions.recordWatches(o.include, ctx.clock.now()))
    await positions.durable();
  const savedAtStart = positions.list();
  for (const p of savedAtStart) ctx.savedPaths.add(p.path);
  await ctx.scanner.rescan('startup');
  await ctx.sweep.recoverRotatedWhileDown();
  // Decide every start offset now (this also finds copies of files
  // copytruncated while down), so the sweep below knows every identity.
  // Compressed files decide when they are read.
  for (const f of [...files.byId.values()]) {
    if (ctx.isStopped()) return;
    if (f.initialized || f.gzip) continue;
    try {
      if (f.handle === undefined && !(await ctx.openFiles.open(f))) continue;
      await ctx.resume.initialize(f, ctx.buf);
    } catch (error) {
      files.fileError(f, error);
    }
  }
  // Paths of the live files found at start-up, and paths with rotated
  // generations next to them that are gone themselves (rotated away and
  // not recreated: the writer stopped).
  const live = new Set(ctx.scanner.rotatedAtStart);
  for (const f of files.byId.values())
    if (f.context === 'startup' && !f.finishOnly) live.add(f.trackedPath);
  await ctx.sweep.sweepUnseenGenerations(savedAtStart, [...live], (path) =>
    watchedSince(ctx, path),
  );
}

/**
 * Since when files at `path` are watched (its include glob's marker);
 * undefined when unknown, or when a path no identity was saved for starts
 * at its end or recent lines (the user asked for no history there).
 */
function watchedSince(
  ctx: FileStartupContext,
  path: string,
): number | undefined {
  const o = ctx.options;
  if (o.startPosition !== 'beginning' && !ctx.savedPaths.has(path))
    return undefined;
  const pattern = o.include.find((g) =>
    compileGlob(g).some((c) => matchesAny([c], path)),
  );
  return pattern === undefined ? undefined : ctx.positions.watchSince(pattern);
}
