import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@lc/test-utils';
import { agentConfig } from './agent-config.js';
import type { AgentConfigOptions } from './agent-config.js';
import { spawnAgent } from './spawn-agent.js';
import type { AgentProcess } from './spawn-agent.js';

/** One fault scenario's directory, config and agents. */
export interface Scenario {
  /** Temp root: `logs/`, `out/`, `data/` and `agent.yaml` live under it. */
  readonly root: string;
  /** Path of the agent config. */
  readonly config: string;
  /** Every agent spawned so far, oldest first. */
  readonly agents: readonly AgentProcess[];
  /** Spawn an agent on the config. */
  start(): AgentProcess;
  /** Copy the directory and every agent's log to `<root>-kept`; returns its path. */
  keepEvidence(): Promise<string>;
  /** SIGKILL what still runs and remove the directory. */
  close(): Promise<void>;
}

/** A temp scenario directory with `logs/` and an agent config ({@link agentConfig}). */
export async function createScenario(
  name: string,
  options: Omit<AgentConfigOptions, 'root'> = {},
): Promise<Scenario> {
  const tmp = await createTempDir(`lc-faults-${name}-`);
  const root = tmp.path;
  await mkdir(join(root, 'logs'), { recursive: true });
  const config = join(root, 'agent.yaml');
  await writeFile(config, agentConfig({ root, ...options }));
  const agents: AgentProcess[] = [];
  return {
    root,
    config,
    agents,
    start() {
      const a = spawnAgent({ config, cwd: root });
      agents.push(a);
      return a;
    },
    async keepEvidence() {
      const kept = `${root}-kept`;
      await cp(root, kept, { recursive: true, preserveTimestamps: true });
      for (const [i, a] of agents.entries())
        await writeFile(join(kept, `agent-${i}.log`), a.stderr());
      return kept;
    },
    async close() {
      for (const a of agents) await a.kill();
      await tmp.cleanup();
    },
  };
}
