// Restarts the shared Docker engine: disrupts other Docker tests running at
// the same time, so it lives alone in this file (CI runs packages one at a
// time). Containers do not survive the restart (no live-restore); the
// container under test has restart policy `always`, so the engine starts
// it again and it keeps counting from its own file.
//
// It restarts only an engine this checkout started (`LC_SERVICES_SCRIPT`
// inside this repository, as in CI, where the clone owns its services):
// a worktree pointed at another checkout's engine skips it instead of
// stalling the Docker tests of everyone else on that engine.
import { execFileSync } from 'node:child_process';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceEnv, skipWithout } from '@lc/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from './container-helpers.js';
import {
  ContainerCase,
  docker,
  linesOf,
  range,
  startMonitor,
  waitExited,
  waitUntil,
} from './container-helpers.js';

const LOOP = `trap 'exit 0' TERM; n=$(cat /tmp/n 2>/dev/null || echo 0); while true; do n=$((n+1)); echo $n > /tmp/n; echo "a$n"; sleep 0.02; done`;

function engineStdout(id: string): string[] {
  const out = execFileSync('docker', ['logs', id], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out === '' ? [] : out.replace(/\n$/, '').split('\n');
}

async function engineUp(): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const script = serviceEnv().servicesScript;
// Without a script, a run that requires its services fails below instead.
const ownEngine =
  script === undefined
    ? process.env['LC_REQUIRE_SERVICES'] === '1'
    : resolve(script).startsWith(resolve(repoRoot) + sep);

describe.skipIf((await skipWithout('docker')) || !ownEngine)(
  'createContainerMonitor',
  () => {
    const c = new ContainerCase();
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.monitor.shutdown();
      h = undefined;
      await waitUntil(engineUp, 60_000, 'engine up');
      await c.cleanup();
    });

    describe('start', () => {
      it('should resume capture after dockerd restarts, losing and repeating nothing', async () => {
        expect(script, 'LC_SERVICES_SCRIPT').toBeDefined();
        const registry = new Registry();
        h = await startMonitor(c, {
          reconnectBaseMs: 100,
          reconnectMaxMs: 1_000,
          registry,
        });
        const { intake } = h;
        const a = await c.run(LOOP, { restart: true });
        const count = () => linesOf(intake.records, a.id).length;
        await waitUntil(
          () => count() >= 50,
          30_000,
          '50 lines before the restart',
        );

        execFileSync('bash', [script as string, 'restart-dockerd'], {
          stdio: 'ignore',
        });
        await waitUntil(engineUp, 60_000, 'engine up');

        // The engine restarted `a`; capture continues from its position.
        const afterRestart = count();
        await waitUntil(
          () => count() >= afterRestart + 50,
          60_000,
          'lines after the restart',
        );
        // A container started after the restart is found through the
        // reconnected events stream (or the re-list).
        const b = await c.run('seq 1 200 | sed s/^/b/');
        await waitExited(b);
        await waitUntil(
          () => linesOf(intake.records, b.id).length >= 200,
          30_000,
          'b lines',
        );
        expect(linesOf(intake.records, b.id)).toEqual(range('b', 200, 1));

        await a.update({ RestartPolicy: { Name: 'no' } });
        await a.kill();
        await waitExited(a);
        await new Promise((r) => setTimeout(r, 1_500));
        const engine = engineStdout(a.id);
        expect(linesOf(intake.records, a.id)).toEqual(engine);
        // The restart really happened: the counter continued across it.
        expect(engine.length).toBeGreaterThan(afterRestart + 50);
        const reconnects = await registry
          .getSingleMetric('lc_container_events_reconnects_total')
          ?.get();
        expect(reconnects?.values[0]?.value ?? 0).toBeGreaterThan(0);
      }, 180_000);
    });
  },
);
