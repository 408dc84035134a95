import type { ResolvedFileMonitorOptions } from '../file-monitor-options.js';
import type { FileReader } from './file-reader.js';
import type { FileRegistry } from './file-registry.js';

/** What {@link waitNoticingRotations} looks at: the monitor's parts. */
export interface PausedWatchParts {
  readonly files: FileRegistry;
  readonly reader: FileReader;
  readonly stopped: boolean;
}

/** Every rescan interval, at most once a second, at least every poll interval. */
const intervalOf = (o: ResolvedFileMonitorOptions): number =>
  Math.min(o.rescanIntervalMs, Math.max(o.pollIntervalMs, 1000));

/**
 * Wait for `writable` (the intake taking records again) while still
 * noticing rotations: about once a second, each open active file's path is
 * stat'ed, and one that left it (renamed away, deleted) becomes a rotated
 * or deleted generation. Without this a monitor paused by a slow sink
 * would not see its files rotate away, so it could not report them at risk
 * (`FileMonitor.atRisk`) for the dispatcher's disk spill to take them.
 */
export async function waitNoticingRotations(
  writable: Promise<void>,
  m: PausedWatchParts,
  options: ResolvedFileMonitorOptions,
): Promise<void> {
  const { files, reader } = m;
  const isStopped = (): boolean => m.stopped;
  const intervalMs = intervalOf(options);
  let done = false;
  const settled = writable.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  while (!done && !isStopped()) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      settled,
      new Promise<void>((r) => {
        timer = setTimeout(r, intervalMs);
      }),
    ]);
    clearTimeout(timer);
    if (done || isStopped()) break;
    for (const f of [...files.byId.values()]) {
      if (done || isStopped()) break;
      if (f.busy) continue;
      f.busy = true;
      try {
        await reader.noticeLeftPath(f);
      } catch (error) {
        files.fileError(f, error);
      } finally {
        f.busy = false;
      }
    }
  }
  await writable;
}
