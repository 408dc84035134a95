// dockerd restarted while containers log, through the real lc-agent
// (docker source → file sink). LONG RUN ONLY (LC_LONG_TESTS=1): it restarts
// the shared Docker engine (`scripts/services.sh restart-dockerd`), which
// disrupts every other Docker test running at the same time.
//
// The engine runs without live-restore (`docker info`:
// LiveRestoreEnabled=false), so stopping dockerd stops its containers. The
// containers therefore run with restart policy `always`: the engine starts
// them again when it is back, and each keeps counting from a counter kept
// in its own filesystem (`/tmp/n`, saved BEFORE the lines it numbers are
// printed, so a container stopped mid-burst leaves a gap, never a repeat).
// "No loss" here means: every line the engine recorded for the container
// (its `docker logs`, both runs) reaches the sink exactly once. Lines a
// container could not print while the engine had stopped it were never
// written; the gap in the numbering is reported, not counted as lost.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTempDir, serviceEnv, skipWithout } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import {
  formatTallies,
  readFileSink,
  spawnAgent,
  superviseAgent,
  tally,
  waitFor,
} from '../src/index.js';
import type { SupervisedAgent } from '../src/index.js';

const run = promisify(execFile);
const LONG = process.env['LC_LONG_TESTS'] === '1';
const CONTAINERS = 3;

const docker = async (...args: string[]): Promise<string> =>
  (await run('docker', args, { maxBuffer: 1 << 28, timeout: 60_000 })).stdout;

const engineUp = () =>
  docker('version', '--format', '{{.Server.Version}}').then(
    () => true,
    () => false,
  );

/** Bursts of 5 numbered lines every 50 ms; the counter survives restarts. */
const loop = (prefix: string) =>
  `trap 'exit 0' TERM; n=$(cat /tmp/n 2>/dev/null || echo 0); ` +
  `while true; do m=$((n+5)); echo $m > /tmp/n; ` +
  `while [ $n -lt $m ]; do n=$((n+1)); echo "${prefix}-$n"; done; sleep 0.05; done`;

/** Every stdout line the engine recorded for `id` (its json-file log). */
async function engineLines(id: string): Promise<string[]> {
  const out = await docker('logs', id);
  return out === '' ? [] : out.replace(/\n$/, '').split('\n');
}

/** Numbers missing inside 1..max of `<prefix>-<n>` lines: never printed. */
function gaps(lines: readonly string[]): number {
  const nums = new Set(lines.map((l) => Number(l.split('-').at(-1))));
  const max = Math.max(0, ...nums);
  return max - nums.size;
}

describe.skipIf(!LONG || (await skipWithout('docker')))(
  'dockerd restarted while containers log (long run only)',
  () => {
    it('should deliver every line the engine recorded exactly once across a dockerd restart', async () => {
      const env = serviceEnv();
      expect(env.servicesScript, 'LC_SERVICES_SCRIPT').toBeDefined();
      const liveRestore = (
        await docker('info', '--format', '{{.LiveRestoreEnabled}}')
      ).trim();
      const others = (await docker('ps', '-q')).trim();
      const tmp = await createTempDir('lc-faults-dockerd-');
      const root = tmp.path;
      const caseId = `${process.pid}-${Date.now()}`;
      const ids: string[] = [];
      let agent: SupervisedAgent | undefined;
      try {
        await mkdir(join(root, 'out'), { recursive: true });
        const config = join(root, 'agent.yaml');
        await writeFile(
          config,
          `app: {data_dir: ${root}/data, log_level: info}
api: {port: 0}
sources:
  docker: {enabled: true, socket: "${env.dockerSocket ?? '/var/run/docker.sock'}", include_labels: ["lc-faults-case=${caseId}"]}
dispatcher: {batch_timeout: 100ms, batch_max_records: 200}
positions: {flush_interval: 100ms}
sinks:
  file: [{name: out, directory: ${root}/out, path_template: "{container_name}.jsonl"}]
`,
        );
        agent = superviseAgent(() => spawnAgent({ config, cwd: root }));
        await agent.ready();
        for (let i = 0; i < CONTAINERS; i++) {
          const id = (
            await docker(
              'run',
              '-d',
              '--network',
              'none',
              '--restart',
              'always',
              '--label',
              'lc-test=faults',
              '--label',
              `lc-faults-case=${caseId}`,
              '--name',
              `lc-faults-dockerd-${caseId}-${i}`,
              env.dockerTestImage,
              'sh',
              '-c',
              loop(`d${i}`),
            )
          ).trim();
          ids.push(id);
        }
        const started = async () =>
          (
            await docker(
              'inspect',
              '--format',
              '{{.State.StartedAt}} {{.RestartCount}}',
              ...ids,
            )
          ).trim();
        const before = await started();
        // Traffic before the restart reaches the sink.
        const delivered = async () =>
          (await readFileSink(join(root, 'out'))).length;
        await waitFor(async () => (await delivered()) >= 3_000, 60_000);
        const beforeRestart = await delivered();

        await run('bash', [env.servicesScript as string, 'restart-dockerd'], {
          timeout: 120_000,
        });
        expect(await waitFor(engineUp, 60_000)).toBe(true);
        // The engine restarted the containers (restart policy `always`).
        const running = async () =>
          (
            await docker(
              'ps',
              '-q',
              '--filter',
              `label=lc-faults-case=${caseId}`,
            )
          )
            .trim()
            .split('\n')
            .filter((l) => l !== '').length;
        expect(
          await waitFor(async () => (await running()) === CONTAINERS, 60_000),
        ).toBe(true);
        const after = await started();
        // Traffic after the restart reaches the sink too.
        await waitFor(
          async () => (await delivered()) >= beforeRestart + 3_000,
          90_000,
        );
        // Stop the containers for good, then compare with the engine's logs.
        await docker('update', '--restart', 'no', ...ids);
        await docker('stop', '-t', '5', ...ids);
        const written: string[] = [];
        let gapCount = 0;
        for (const id of ids) {
          const lines = await engineLines(id);
          written.push(...lines);
          gapCount += gaps(lines);
        }
        const complete = await waitFor(async () => {
          const got = new Set(await readFileSink(join(root, 'out')));
          return written.every((l) => got.has(l));
        }, 120_000);
        const exit = await agent.stop();
        const crashes = agent.crashes;
        const t = tally(
          `dockerd restarted while ${CONTAINERS} containers log (restart=always, live-restore=${liveRestore})` +
            (crashes.length > 0 ? `, agent crashed x${crashes.length}` : ''),
          written,
          await readFileSink(join(root, 'out')),
        );
        const restartedLog = agent.all
          .map((a) => a.stderr())
          .join('')
          .split('\n')
          .filter((l) => /"level":(40|50|60)/.test(l));
        console.info(
          `\n${formatTallies([t])}\n` +
            `containers before: ${before.replace(/\n/g, ' | ')}\n` +
            `containers after:  ${after.replace(/\n/g, ' | ')}\n` +
            `other running containers at start: ${others === '' ? 'none' : others.replace(/\n/g, ' ')}; ` +
            `numbers never printed (engine stopped the container mid-burst / while down): ${gapCount}; ` +
            `delivered before the restart: ${beforeRestart}; complete before the deadline: ${complete}; ` +
            `agent exit ${exit}, processes ${agent.all.length}; agent warn/error lines: ${restartedLog.length}\n` +
            restartedLog.slice(0, 8).join('\n'),
        );
        if (t.lost > 0) console.info(`lost e.g. ${t.lostSample.join(', ')}`);
        // The restart really happened and the engine restarted the containers.
        expect(after).not.toBe(before);
        expect(t.unexpected).toBe(0);
        expect(t.lost).toBe(0);
        expect(t.duplicates).toBe(0);
        expect(crashes.length).toBe(0);
        expect(exit).toBe(0);
      } finally {
        await agent?.kill();
        await waitFor(engineUp, 60_000);
        if (ids.length > 0)
          await docker('rm', '-f', ...ids).catch(() => undefined);
        await tmp.cleanup();
      }
    }, 600_000);
  },
);
