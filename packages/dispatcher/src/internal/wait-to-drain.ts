import type { Clock } from '@lc/core';
import type { DispatcherShutdown } from '../dispatcher.js';
import type { IntakeBudget } from './intake-budget.js';
import type { Batch } from './model.js';
import { shutdownSummary } from './shutdown-summary.js';
import type { Spill } from './spill.js';
import type { WaiterList } from './waiters.js';

/** How often the shutdown wait looks at circuits and persists again. */
const RECHECK_MS = 50;

/**
 * At shutdown: wait up to `timeoutMs` for every live batch to settle and the
 * spill to empty, but not for sinks that are down once everything left is
 * on disk (see {@link heldForDownSinks}): the next start delivers it, and a
 * stop that takes the whole timeout misses files deleted meanwhile.
 * Resolves what it left behind (see {@link shutdownSummary}).
 */
export async function waitToDrain(p: {
  readonly live: ReadonlyMap<number, Batch>;
  readonly spill: Spill | undefined;
  readonly budget: IntakeBudget;
  readonly waiters: WaiterList;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly wake: () => void;
}): Promise<DispatcherShutdown> {
  const drained = (): boolean =>
    p.live.size === 0 && (p.spill?.records ?? 0) === 0;
  const held = (): boolean => heldForDownSinks(p.live.values(), p.spill);
  const recheck = setInterval(p.wake, RECHECK_MS);
  try {
    await p.waiters.waitAtMost(() => drained() || held(), p.timeoutMs, p.clock);
  } finally {
    clearInterval(recheck);
  }
  return shutdownSummary(
    drained() ? 'drained' : held() ? 'held' : 'timed out',
    p.budget.held,
    p.live.values(),
    p.spill?.records ?? 0,
    p.clock,
  );
}

/**
 * Whether everything the dispatcher still holds is on disk and waits only
 * for sinks that are down: every live batch is persisted in the batch store
 * and each of its unfinished deliveries goes to a sink whose circuit is not
 * closed, and the spill has written all it took. Waiting for such sinks at
 * shutdown gains nothing (the next start delivers it all).
 */
export function heldForDownSinks(
  live: Iterable<Batch>,
  spill: Spill | undefined,
): boolean {
  if ((spill?.unwrittenRecords ?? 0) > 0) return false;
  for (const batch of live) {
    if (!batch.durable) return false;
    for (const d of batch.deliveries) {
      if (d.state === 'done') continue;
      if (d.state === 'inflight' || d.target.circuit.state === 'closed')
        return false;
    }
  }
  return true;
}
