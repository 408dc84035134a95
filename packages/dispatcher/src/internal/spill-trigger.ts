import type { Lane } from './model.js';
import type { ResolvedSpill } from './resolve-options.js';

/**
 * Whether a full intake should spill now rather than pause its sources (see
 * `SpillOptions.trigger`): always with `backpressure`; with `risk`, only
 * while the spill protects something — a sink failing (a retry pending, a
 * circuit not closed) or a source whose unread data may go (`atRisk`). A
 * sink that is merely slower than the sources pauses them instead: the
 * files are the buffer, and spilling would only add disk I/O and CPU.
 */
export function createSpillTrigger(
  spill: ResolvedSpill | undefined,
  retryQueueSize: () => number,
  lanes: ReadonlyMap<string, Lane>,
): () => boolean {
  if (spill === undefined) return () => false;
  if (spill.trigger === 'backpressure') return () => true;
  const atRisk = spill.atRisk;
  return () => {
    if (retryQueueSize() > 0) return true;
    for (const lane of lanes.values())
      if (lane.circuit.state !== 'closed') return true;
    return atRisk();
  };
}
