import { join } from 'node:path';
import { createDispatcher } from '@lc/dispatcher';
import { createFileMonitor } from '@lc/monitors';
import {
  createJsonFilePositionStore,
  createPositionManager,
} from '@lc/positions';
import { createProcessingIntake, createProcessor } from '@lc/processing';
import { createFileSink } from '@lc/sinks';

/** A running pipeline: stop it with `shutdown()`. */
export interface Pipeline {
  shutdown(): Promise<void>;
}

/**
 * Tail `<logDir>/*.log` into JSON Lines under `outDir`, resuming from
 * positions in `stateDir`. JSON lines are parsed (`level` and `app` become
 * labels, `msg` the line), debug lines dropped and secrets redacted before
 * anything reaches the dispatcher. Positions move only when the sink
 * confirmed delivery (the dispatcher commits its ack watermark to the
 * manager); a dropped line's position is carried by the next line.
 */
export async function startPipeline(options: {
  logDir: string;
  outDir: string;
  stateDir: string;
}): Promise<Pipeline> {
  const positions = createPositionManager({
    store: createJsonFilePositionStore({
      path: join(options.stateDir, 'positions.json'),
    }),
  });
  await positions.start();
  const dispatcher = createDispatcher({
    sinks: [
      createFileSink({
        name: 'out',
        directory: options.outDir,
        pathTemplate: '{file_name}.jsonl',
      }),
    ],
    committer: positions,
    batchTimeoutMs: 50,
  });
  await dispatcher.start();
  const processor = createProcessor({
    pipelines: [
      {
        name: 'default',
        steps: [
          {
            type: 'json_parse',
            labels: ['level', 'app'],
            message_field: 'msg',
          },
          { type: 'drop', when: { level: ['debug'] } },
          { type: 'redact' },
        ],
      },
    ],
  });
  const monitor = createFileMonitor({
    // sources → processing → dispatcher
    intake: createProcessingIntake(dispatcher, processor),
    positions,
    include: [join(options.logDir, '*.log')],
    labels: { job: 'example' },
  });
  await monitor.start();
  return {
    async shutdown() {
      await monitor.shutdown(); // stop reading first
      await dispatcher.shutdown(); // drain: deliver, then commit
      await positions.shutdown(); // flush committed positions
    },
  };
}
