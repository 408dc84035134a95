import type { Logger } from '@lc/core';
import { skipWithout } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from './container-helpers.js';
import {
  ContainerCase,
  docker,
  env,
  linesOf,
  range,
  startMonitor,
  waitUntil,
} from './container-helpers.js';

/**
 * Not met in API mode on a loaded machine (0-3 of 50 containers lose
 * lines in a run; see docs/docker.md, "API mode: containers removed at
 * exit"): run with LC_DOCKER_RM_TEST=1. The guarantee is the files
 * mode's, tested in docker-files.test.ts.
 */
const RUN_RM_TEST = process.env.LC_DOCKER_RM_TEST === '1';

/**
 * Containers removed at exit (`docker run --rm`: AutoRemove) against the
 * real engine with the json-file driver: each prints its lines and exits at
 * once, and the engine removes it (and its log) right after. Every line of
 * every container must be captured, in order, exactly once.
 */
describe.skipIf(await skipWithout('docker'))('createContainerMonitor', () => {
  const c = new ContainerCase();
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.monitor.shutdown();
    h = undefined;
    await c.cleanup();
  });

  describe('start', () => {
    it.runIf(RUN_RM_TEST)(
      'should capture every line of 50 --rm containers that print 1-1,000 lines and exit at once (API mode)',
      async () => {
        const logged: string[] = [];
        const log =
          (level: string) =>
          (obj: unknown, msg?: string): void => {
            logged.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
          };
        const logger: Logger = {
          trace: () => undefined,
          debug: log('debug'),
          info: log('info'),
          warn: log('warn'),
          error: log('error'),
          fatal: log('fatal'),
          child: () => logger,
        };
        h = await startMonitor(c, { logger });
        const { intake } = h;
        // 1 to 1,000 lines, spread so that short and long ones start together.
        const counts = Array.from({ length: 50 }, (_, k) =>
          k === 0 ? 1 : k === 1 ? 1000 : 1 + ((k * 337) % 1000),
        );
        const ids = await Promise.all(
          counts.map(async (n, k) => {
            const container = await docker.createContainer({
              Image: env.dockerTestImage,
              Cmd: [
                'sh',
                '-c',
                `i=0; while [ $i -lt ${n} ]; do echo "r${k}-$i"; i=$((i+1)); done`,
              ],
              Labels: { 'lc-test': 'monitors', 'lc-case': c.caseId },
              HostConfig: {
                NetworkMode: 'none',
                AutoRemove: true,
                LogConfig: { Type: 'json-file', Config: {} },
              },
            });
            c.ids.push(container.id);
            await container.start();
            return container.id;
          }),
        );
        const total = counts.reduce((a, b) => a + b, 0);
        // Every container is gone (removed by the engine) before checking.
        await waitUntil(
          async () =>
            (
              await docker.listContainers({
                all: true,
                filters: { label: [`lc-case=${c.caseId}`] },
              })
            ).length === 0,
          60_000,
          'containers removed',
        );
        await intake.waitFor(total, 60_000).catch(() => undefined);
        const wrong = ids.flatMap((id, k) => {
          const got = linesOf(intake.records, id);
          const want = range(`r${k}-`, counts[k] as number);
          return JSON.stringify(got) === JSON.stringify(want)
            ? []
            : [`container ${k}: ${got.length} of ${want.length} lines`];
        });
        expect(wrong, logged.join('\n')).toEqual([]);
        expect(intake.records.length).toBe(total);
      },
      180_000,
    );
  });
});
