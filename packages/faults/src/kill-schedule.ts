import type { AgentProcess } from './spawn-agent.js';

/** How each agent of a {@link runKillSchedule} ends. */
export type StopSignal = 'SIGKILL' | 'SIGTERM';

/** Options of {@link runKillSchedule}. */
export interface KillScheduleOptions {
  /** Spawns a new agent process on the scenario's config. */
  readonly start: () => AgentProcess;
  /**
   * How long each agent lives, ms after its spawn, one entry per agent
   * (0 = at once). Counted from the spawn, never from readiness: a kill
   * can land before the agent has loaded, read or saved anything.
   */
  readonly lifetimesMs: readonly number[];
  /** Pause between an agent's end and the next spawn, ms. */
  readonly restartDelayMs: () => number;
  /** SIGKILL (a crash) or SIGTERM, waiting for the exit (a rolling update). */
  readonly signal: StopSignal;
}

/** What happened to the agents of a schedule. */
export interface KillScheduleResult {
  /** Agents spawned and stopped. */
  readonly agents: number;
  /** Exit codes of SIGTERMed agents (all 0 when every stop was clean). */
  readonly exitCodes: readonly (number | string)[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Random integer in [min, max]. */
export function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/**
 * Spawns agents one after another and ends each after its lifetime, while
 * the scenario's writer goes on by itself: the fault lands whatever state
 * the agent is in.
 */
export async function runKillSchedule(
  options: KillScheduleOptions,
): Promise<KillScheduleResult> {
  const exitCodes: (number | string)[] = [];
  for (const lifetime of options.lifetimesMs) {
    const a = options.start();
    await sleep(lifetime);
    if (options.signal === 'SIGKILL') await a.kill();
    else exitCodes.push(await a.stop());
    await sleep(options.restartDelayMs());
  }
  return { agents: options.lifetimesMs.length, exitCodes };
}
