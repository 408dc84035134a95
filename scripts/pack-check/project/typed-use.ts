// A TypeScript consumer of the published types: a custom sink, a pipeline
// and the agent's programmatic API, as the READMEs show them.
import type { LogRecord, Sink, SinkFactory } from '@lc/core';
import { defineSink, WriteResults } from '@lc/core';
import { createDispatcher } from '@lc/dispatcher';
import { createFileMonitor } from '@lc/monitors';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import { createFileSink } from '@lc/sinks';
import type { Agent } from '@lc/agent';
import { createAgent, parseConfig, unwrapConfig } from '@lc/agent';

export const createSink: SinkFactory<{ readonly tag: string }> = (
  options,
  { name },
): Sink =>
  defineSink({
    name,
    write: (batch: readonly LogRecord[]) =>
      batch.every((r) => r.line.startsWith(options.tag))
        ? WriteResults.success()
        : undefined,
  });

export function pipeline(dir: string): () => Promise<void> {
  const positions = createPositionManager({
    store: createMemoryPositionStore(),
  });
  const dispatcher = createDispatcher({
    sinks: [createFileSink({ name: 'out', directory: dir })],
    committer: positions,
  });
  const monitor = createFileMonitor({
    intake: dispatcher,
    positions,
    include: [`${dir}/*.log`],
  });
  return async () => {
    await monitor.shutdown();
    await dispatcher.shutdown();
  };
}

export function agent(yaml: string): Agent {
  return createAgent({ config: unwrapConfig(parseConfig(yaml)) });
}
