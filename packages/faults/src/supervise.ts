import type { AgentProcess } from './spawn-agent.js';

/** An agent kept running like a service manager would (`Restart=always`). */
export interface SupervisedAgent {
  /** The agent process running now (or the last one, once stopped). */
  current(): AgentProcess;
  /** Every process started so far, oldest first. */
  readonly all: readonly AgentProcess[];
  /** Exits not asked for by {@link stop}: code or signal, with the log tail. */
  readonly crashes: readonly { exit: number | string; logTail: string }[];
  /** Waits until the current agent is ready (restarting it if it died meanwhile). */
  ready(): Promise<string>;
  /** Stops supervising, SIGTERMs the current agent, resolves with its exit. */
  stop(): Promise<number | string>;
  /** Stops supervising and SIGKILLs every agent still running. */
  kill(): Promise<void>;
}

/**
 * Starts `start()` and starts it again whenever it exits on its own
 * (polling every `pollMs`), so a crash is counted and the loss accounting
 * of a fault scenario can go on past it.
 */
export function superviseAgent(
  start: () => AgentProcess,
  pollMs = 200,
): SupervisedAgent {
  const all: AgentProcess[] = [start()];
  const crashes: { exit: number | string; logTail: string }[] = [];
  let supervising = true;
  const dead = (a: AgentProcess) =>
    a.child.exitCode !== null || a.child.signalCode !== null;
  const last = () => all[all.length - 1] as AgentProcess;
  const check = () => {
    const a = last();
    if (!supervising || !dead(a)) return;
    crashes.push({
      exit: a.child.exitCode ?? a.child.signalCode ?? -1,
      logTail: a.stderr().slice(-3_000),
    });
    all.push(start());
  };
  const timer = setInterval(check, pollMs);
  return {
    current: last,
    all,
    crashes,
    async ready() {
      for (;;) {
        const a = last();
        try {
          return await a.ready();
        } catch (e) {
          if (!supervising) throw e;
          check();
          if (last() === a) throw e;
        }
      }
    },
    async stop() {
      supervising = false;
      clearInterval(timer);
      return last().stop();
    },
    async kill() {
      supervising = false;
      clearInterval(timer);
      for (const a of all) await a.kill();
    },
  };
}
