import type { DispatcherStats, RouteStats, SinkStats } from '@lc/dispatcher';
import { describe, expect, it } from 'vitest';
import { agentReadiness } from './readiness.js';
import type { ReadinessInput } from './readiness.js';

// The /ready rule on its own: every combination of agent state, positions,
// sinks and routes the running agent can report (the API tests and the
// real-process tests check the same rule end to end).

function sink(name: string, over: Partial<SinkStats> = {}): SinkStats {
  return {
    name,
    inflight: 0,
    queued: 0,
    circuit: 'closed',
    state: 'up',
    fallback: undefined,
    unsettledBatches: 0,
    unsettledRecords: 0,
    oldestUnsettledAgeMs: 0,
    delivered: 0,
    deadLettered: 0,
    lastError: undefined,
    ...over,
  };
}

const refused = {
  code: 'LC_ERR_SINK_UNAVAILABLE',
  message: 'request to http://127.0.0.1:3100 failed: ECONNREFUSED',
  atMs: 1_700_000_000_000,
};
const down = (name: string, over: Partial<SinkStats> = {}): SinkStats =>
  sink(name, { circuit: 'open', state: 'down', lastError: refused, ...over });

function dispatcher(
  sinks: SinkStats[],
  routes: RouteStats[],
  writable = true,
): DispatcherStats {
  return {
    queuedRecords: 0,
    queuedBytes: 0,
    writable,
    liveBatches: 0,
    retryQueueSize: 0,
    retries: 0,
    dropped: {},
    backpressureMs: 0,
    recoveredRecords: 0,
    spilledRecords: 0,
    spilledBytes: 0,
    spilledTotal: 0,
    spilledOldestAtMs: undefined,
    sinks,
    routes,
  };
}

function input(over: Partial<ReadinessInput> = {}): ReadinessInput {
  return {
    state: 'running',
    positions: { state: 'ok' },
    dispatcher: dispatcher(
      [sink('loki')],
      [{ route: 'default', sinks: ['loki'], state: 'up', downSinks: [] }],
    ),
    deadLetters: true,
    persistence: true,
    fileGroups: 2,
    kubernetes: false,
    docker: false,
    http: true,
    ...over,
  };
}

describe('agentReadiness', () => {
  it('should be ready with no reasons when everything is up', () => {
    const r = agentReadiness(input());
    expect(r).toMatchObject({ ready: true, status: 'ready', reasons: [] });
    expect(r.components.sources).toEqual({
      state: 'up',
      fileGroups: 2,
      kubernetes: false,
      docker: false,
      http: true,
    });
  });

  it('should count the Kubernetes source as a source, and say when there is none', () => {
    const none = {
      fileGroups: 0,
      kubernetes: false,
      docker: false,
      http: false,
    };
    expect(agentReadiness(input(none)).components.sources.state).toBe(
      'disabled',
    );
    expect(
      agentReadiness(input({ ...none, kubernetes: true })).components.sources,
    ).toEqual({
      state: 'up',
      fileGroups: 0,
      kubernetes: true,
      docker: false,
      http: false,
    });
  });

  it('should not be ready, saying why, when every sink of a route is down', () => {
    const r = agentReadiness(
      input({
        dispatcher: dispatcher(
          [down('loki')],
          [
            {
              route: 'default',
              sinks: ['loki'],
              state: 'down',
              downSinks: ['loki'],
            },
          ],
        ),
      }),
    );
    expect(r.ready).toBe(false);
    expect(r.status).toBe('not ready');
    expect(r.reasons).toEqual([
      'default route: every sink is down, its records are not delivered anywhere: loki (circuit open; last error LC_ERR_SINK_UNAVAILABLE: request to http://127.0.0.1:3100 failed: ECONNREFUSED)',
    ]);
    expect(r.components.sinks['loki']).toEqual({
      state: 'down',
      circuit: 'open',
      reason:
        'circuit open; last error LC_ERR_SINK_UNAVAILABLE: request to http://127.0.0.1:3100 failed: ECONNREFUSED',
    });
  });

  it('should not be ready when the only sink of a match route is down, though the default route delivers', () => {
    const r = agentReadiness(
      input({
        dispatcher: dispatcher(
          [sink('loki'), down('audit', { circuit: 'half-open' })],
          [
            { route: 'default', sinks: ['loki'], state: 'up', downSinks: [] },
            { route: 0, sinks: ['audit'], state: 'down', downSinks: ['audit'] },
          ],
        ),
      }),
    );
    expect(r.ready).toBe(false);
    expect(r.reasons).toEqual([
      expect.stringMatching(
        /^route of audit \(match\): every sink is down, its records are not delivered anywhere: audit \(circuit half-open \(probing\); last error/,
      ),
    ]);
  });

  it('should stay ready but degraded while a route still reaches one of its sinks', () => {
    const r = agentReadiness(
      input({
        dispatcher: dispatcher(
          [down('loki'), sink('kafka')],
          [
            {
              route: 'default',
              sinks: ['loki', 'kafka'],
              state: 'degraded',
              downSinks: ['loki'],
            },
          ],
        ),
      }),
    );
    expect(r).toMatchObject({ ready: true, status: 'degraded' });
    expect(r.reasons).toEqual([
      expect.stringMatching(
        /^default route: degraded, records still reach a sink but not: loki \(circuit open;/,
      ),
    ]);
  });

  it('should not be ready while positions cannot be saved', () => {
    const r = agentReadiness(
      input({
        positions: {
          state: 'failing',
          failingSinceMs: 1_700_000_000_000,
          lastError: 'ENOSPC: no space left on device',
        },
      }),
    );
    expect(r).toMatchObject({ ready: false, status: 'not ready' });
    expect(r.components.positions).toEqual({
      state: 'down',
      reason:
        'saves failing since 2023-11-14T22:13:20.000Z: ENOSPC: no space left on device',
    });
    expect(r.reasons).toEqual([
      'positions: saves failing since 2023-11-14T22:13:20.000Z: ENOSPC: no space left on device',
    ]);
  });

  it('should not be ready, with the state as status, unless running', () => {
    for (const state of [
      'new',
      'starting',
      'reloading',
      'stopping',
      'stopped',
    ] as const) {
      const r = agentReadiness(input({ state }));
      expect(r).toMatchObject({ ready: false, status: state, state });
      expect(r.reasons).toEqual([`agent is ${state}`]);
    }
    const before = agentReadiness(
      input({ state: 'starting', dispatcher: undefined }),
    );
    expect(before.components.dispatcher).toEqual({
      state: 'down',
      reason: 'not started',
      backpressure: false,
    });
    expect(before.components.sinks).toEqual({});
  });

  it('should show backpressure as a degraded dispatcher without making the agent unready', () => {
    const r = agentReadiness(
      input({
        dispatcher: dispatcher(
          [sink('loki')],
          [{ route: 'default', sinks: ['loki'], state: 'up', downSinks: [] }],
          false,
        ),
      }),
    );
    expect(r).toMatchObject({ ready: true, status: 'ready' });
    expect(r.components.dispatcher).toMatchObject({
      state: 'degraded',
      backpressure: true,
    });
  });
});
