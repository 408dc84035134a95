import type { RouteStats } from '../dispatcher.js';
import type { RouteOptions } from '../dispatcher-options.js';
import type { Lane } from './model.js';

const isDown = (lane: Lane): boolean => lane.circuit.state !== 'closed';

/**
 * Whether `lane`'s records still reach a sink while it is down: its
 * fallback takes them (diversion goes one hop: a fallback's own fallback is
 * never used).
 */
const covered = (lane: Lane): boolean =>
  lane.fallback !== undefined && !isDown(lane.fallback);

/**
 * The state of the default route (records no route matches) and of every
 * route: `down` when each of its sinks is down with no fallback taking its
 * records, `degraded` when some sink is down, else `up`. Routes without
 * sinks are left out: nothing waits on them.
 */
export function routeStats(
  routes: readonly RouteOptions[],
  defaultLanes: readonly Lane[],
  lanes: ReadonlyMap<string, Lane>,
): RouteStats[] {
  const out: RouteStats[] = [];
  const add = (route: number | 'default', sinks: readonly Lane[]): void => {
    if (sinks.length === 0) return;
    const down = sinks.filter(isDown);
    out.push({
      route,
      sinks: sinks.map((l) => l.name),
      state:
        down.length === 0
          ? 'up'
          : down.length === sinks.length && !down.some(covered)
            ? 'down'
            : 'degraded',
      downSinks: down.map((l) => l.name),
    });
  };
  // In the order the sinks were given (a group's lanes are sorted by name).
  add(
    'default',
    [...lanes.values()].filter((l) => defaultLanes.includes(l)),
  );
  routes.forEach((r, i) =>
    add(
      i,
      r.sinks.flatMap((name) => lanes.get(name) ?? []),
    ),
  );
  return out;
}
