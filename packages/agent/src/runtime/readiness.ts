import type {
  CircuitState,
  DispatcherStats,
  RouteStats,
  SinkStats,
} from '@lc/dispatcher';
import type { AgentState, PositionsStatus } from './agent.js';

/** How one part of the agent is doing (see {@link Readiness}). */
export interface ComponentHealth {
  /**
   * `up`; `degraded`: works, with a part down; `down`: does not work;
   * `disabled`: not configured.
   */
  readonly state: 'up' | 'degraded' | 'down' | 'disabled';
  /** Why it is not up, in one line. */
  readonly reason?: string;
}

/** One sink in {@link Readiness}. */
export interface SinkHealth extends ComponentHealth {
  readonly state: 'up' | 'down';
  readonly circuit: CircuitState;
  /** The sink taking its records while it is down, if configured. */
  readonly fallback?: string;
}

/** The sources in {@link Readiness}. */
export interface SourcesHealth extends ComponentHealth {
  /** `sources.files` groups being tailed. */
  readonly fileGroups: number;
  /** Whether Kubernetes pod logs are captured (`sources.kubernetes`). */
  readonly kubernetes: boolean;
  /** Whether container logs are captured. */
  readonly docker: boolean;
  /** Whether `POST /api/v1/logs` takes records. */
  readonly http: boolean;
}

/**
 * What `/ready` answers. Ready (200) while the agent runs, positions can be
 * saved and every route has a sink that takes its records; `degraded` is
 * still ready (some sink is down, but every record still reaches a sink
 * and the rest waits on disk). Otherwise not ready (503), with one line per
 * reason.
 */
export interface Readiness {
  readonly ready: boolean;
  /**
   * `ready`, `degraded` (ready, with a sink down or the Kubernetes API
   * failing), `not ready`, or while
   * the agent is not running its state (`new`, `starting`, `reloading`,
   * `stopping`, `stopped`).
   */
  readonly status:
    'ready' | 'degraded' | 'not ready' | Exclude<AgentState, 'running'>;
  /** The agent's lifecycle state. */
  readonly state: AgentState;
  /** Why it is not ready or is degraded, one line each (empty when ready). */
  readonly reasons: readonly string[];
  readonly components: {
    readonly positions: ComponentHealth;
    readonly dispatcher: ComponentHealth & {
      /** The intake is full: sources are paused (backpressure). */
      readonly backpressure: boolean;
    };
    readonly deadLetters: ComponentHealth;
    readonly persistence: ComponentHealth;
    readonly sources: SourcesHealth;
    /** By sink name. */
    readonly sinks: Readonly<Record<string, SinkHealth>>;
    /**
     * The default route (sinks without `match`) and one per sink with
     * `match`, and whether their records reach a sink.
     */
    readonly routes: readonly RouteStats[];
  };
}

/** What {@link agentReadiness} judges. */
export interface ReadinessInput {
  readonly state: AgentState;
  readonly positions: PositionsStatus;
  /** Undefined before the pipeline is built. */
  readonly dispatcher: DispatcherStats | undefined;
  readonly deadLetters: boolean;
  readonly persistence: boolean;
  readonly fileGroups: number;
  readonly kubernetes: boolean;
  /**
   * Why the Kubernetes source runs degraded (its API metadata fails;
   * records still flow), if it does.
   */
  readonly kubernetesDegraded?: string | undefined;
  readonly docker: boolean;
  readonly http: boolean;
}

function sinkReason(s: SinkStats): string {
  const circuit =
    s.circuit === 'half-open' ? 'circuit half-open (probing)' : 'circuit open';
  const last =
    s.lastError === undefined
      ? ''
      : `; last error ${s.lastError.code}: ${s.lastError.message}`;
  return `${circuit}${last}`;
}

function routeName(r: RouteStats): string {
  return r.route === 'default'
    ? 'default route'
    : `route of ${r.sinks.join(', ')} (match)`;
}

/** Judge the agent's readiness from its parts (see {@link Readiness}). */
export function agentReadiness(input: ReadinessInput): Readiness {
  const { state, dispatcher } = input;
  const running = state === 'running';
  const reasons: string[] = [];
  if (!running) reasons.push(`agent is ${state}`);

  const saves = input.positions;
  const positions: ComponentHealth =
    saves.state === 'ok'
      ? { state: 'up' }
      : {
          state: 'down',
          reason: `saves failing${saves.failingSinceMs === undefined ? '' : ` since ${new Date(saves.failingSinceMs).toISOString()}`}: ${saves.lastError ?? 'save failed'}`,
        };
  // Positions that cannot be saved are a durability failure: delivery
  // goes on, but a crash would replay (or, for a new file rotated away
  // meanwhile, miss) what was read since. Not ready until fixed.
  if (positions.reason !== undefined)
    reasons.push(`positions: ${positions.reason}`);

  const sinks: Record<string, SinkHealth> = {};
  for (const s of dispatcher?.sinks ?? []) {
    sinks[s.name] = {
      state: s.state,
      circuit: s.circuit,
      ...(s.fallback === undefined ? {} : { fallback: s.fallback }),
      ...(s.state === 'down' ? { reason: sinkReason(s) } : {}),
    };
  }
  const routes = dispatcher?.routes ?? [];
  let degraded = false;
  for (const r of routes) {
    if (r.state === 'up') continue;
    const why = r.downSinks
      .map((n) => `${n} (${sinks[n]?.reason ?? 'down'})`)
      .join('; ');
    if (r.state === 'down') {
      reasons.push(
        `${routeName(r)}: every sink is down, its records are not delivered anywhere: ${why}`,
      );
    } else {
      degraded = true;
      reasons.push(
        `${routeName(r)}: degraded, records still reach a sink but not: ${why}`,
      );
    }
  }
  if (input.kubernetesDegraded !== undefined) {
    // Records flow without API labels: still ready, said so.
    degraded = true;
    reasons.push(`sources: ${input.kubernetesDegraded}`);
  }
  const down = routes.some((r) => r.state === 'down');
  const backpressure = dispatcher !== undefined && !dispatcher.writable;
  const ready = running && positions.state === 'up' && !down;
  return {
    ready,
    status: !running
      ? state
      : !ready
        ? 'not ready'
        : degraded
          ? 'degraded'
          : 'ready',
    state,
    reasons,
    components: {
      positions,
      dispatcher:
        dispatcher === undefined
          ? { state: 'down', reason: 'not started', backpressure: false }
          : backpressure
            ? {
                state: 'degraded',
                reason: 'intake full: sources paused until sinks catch up',
                backpressure,
              }
            : { state: 'up', backpressure },
      deadLetters: { state: input.deadLetters ? 'up' : 'disabled' },
      persistence: { state: input.persistence ? 'up' : 'disabled' },
      sources: {
        state:
          input.kubernetesDegraded !== undefined
            ? 'degraded'
            : input.fileGroups > 0 ||
                input.kubernetes ||
                input.docker ||
                input.http
              ? 'up'
              : 'disabled',
        ...(input.kubernetesDegraded === undefined
          ? {}
          : { reason: input.kubernetesDegraded }),
        fileGroups: input.fileGroups,
        kubernetes: input.kubernetes,
        docker: input.docker,
        http: input.http,
      },
      sinks,
      routes,
    },
  };
}
