// sources.kubernetes with multiline across a SIGKILL of the built lc-agent
// binary, on real files in the kubelet layout (CRI lines as containerd
// writes them, a long frame cut into P fragments, stderr interleaved): a
// Java trace half read when the agent is killed is delivered whole, once,
// after the restart, although the kubelet rotated and gzipped the file
// while the agent was down (its rest is read from the .gz, from the
// committed offset).
import {
  appendFile,
  mkdir,
  readFile,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createTempDir } from '@lc/test-utils';
import type { TempDir } from '@lc/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  readSinkLines,
  release,
  spawnBinary,
} from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

let tmp: TempDir | undefined;
let agent: AgentProcess | undefined;

afterEach(async () => {
  await release(agent, tmp);
  agent = tmp = undefined;
});

const UID = '0d6c3f52-9b1e-4c7a-8f00-5a2b9c1d7e44';

/** The config: the Kubernetes source with preset java, a file sink. */
function config(dir: string): string {
  // A flush timeout far beyond the test: only the rule ends a record, so
  // a record seen whole proves the join, not a timer.
  return `app: {data_dir: ${dir}/data}
api: {port: 0}
sources:
  kubernetes:
    enabled: true
    root: ${dir}/pods
    containers_dir: false
    multiline: {preset: java, flush_timeout: 10m}
dispatcher: {batch_timeout: 50ms}
sinks: {file: [{name: out, directory: ${dir}/out}]}
`;
}

/** A Java stack trace whose every line names record `n`. */
function trace(n: number): string[] {
  return [
    `2026-11-23 10:00:00 ERROR [main] c.a.Orders - record ${n} failed`,
    `java.lang.IllegalStateException: record ${n}`,
    `\tat com.acme.Orders.get(Orders.java:${n})`,
    `\tat com.acme.Http.serve(Http.java:${n}) ${'x'.repeat(40)}`,
    `Caused by: java.io.IOException: record ${n}`,
    `\tat com.acme.Disk.read(Disk.java:${n})`,
    `\t... ${n} more`,
  ];
}

const info = (n: number, stream = 'out') =>
  `2026-11-23 10:00:00 INFO [main] c.a.Orders - ${stream} ${n}`;

let nanos = 0;
/**
 * CRI lines of `messages` on `stream`, each with the next time; a message
 * longer than `fragment` bytes is cut into `P` fragments and an `F`.
 */
function cri(
  messages: readonly string[],
  stream: 'stdout' | 'stderr' = 'stdout',
  fragment = Infinity,
): string {
  let out = '';
  for (const m of messages) {
    let at = 0;
    do {
      const end = Math.min(m.length, at + fragment);
      const time = `2026-01-01T12:00:00.${String(++nanos).padStart(9, '0')}Z`;
      out += `${time} ${stream} ${end < m.length ? 'P' : 'F'} ${m.slice(at, end)}\n`;
      at = end;
    } while (at < m.length);
  }
  return out;
}

describe('lc-agent run with sources.kubernetes and multiline (built binary, SIGKILL)', () => {
  it('should deliver a trace whole and once after a SIGKILL in its middle, its rest read from the .gz the kubelet made while down', async () => {
    tmp = await createTempDir('lc-agent-k8s-multiline-');
    const dir = tmp.path;
    const container = join(dir, 'pods', `shop_cart-7f9_${UID}`, 'app');
    await mkdir(container, { recursive: true });
    await writeFile(join(dir, 'agent.yaml'), config(dir));
    const live = join(container, '0.log');
    const t = trace(777);
    const before = cri(Array.from({ length: 50 }, (_, i) => info(i)));
    await writeFile(
      live,
      before +
        cri([t[0] as string, t[1] as string]) +
        cri([info(0, 'err')], 'stderr') +
        cri([t[2] as string]),
    );
    const delivered = () => readSinkLines(join(dir, 'out'));
    agent = spawnBinary(['run', '--config', join(dir, 'agent.yaml')], dir);
    // info(49) leaves when the trace's first line is read: the agent holds
    // the first half of the trace (and the stderr line), not committed.
    await eventually(
      async () => (await delivered()).includes(info(49)),
      60_000,
      'the lines before the trace delivered',
    );
    // Committed up to the trace, not into it: after the kill, nothing
    // before it may come again (a .gz read whole would repeat it all).
    const api = await agent.apiAddress();
    const committed = async () => {
      const status = (await (await fetch(`${api}/status`)).json()) as {
        files: { path: string; committedOffset: number }[];
      };
      return status.files.find((f) => f.path === live)?.committedOffset;
    };
    await eventually(
      async () => (await committed()) === Buffer.byteLength(before),
      60_000,
      'the position committed up to the trace',
    );
    agent.child.kill('SIGKILL');
    await agent.exited;
    const ofTrace = (lines: string[]) =>
      lines.filter((l) => l.includes('record 777'));
    expect(ofTrace(await delivered())).toEqual([]);
    // While down: the rest of the trace (a long frame in fragments), then
    // the kubelet's rotation: rename, gzip through a .tmp, remove, and a
    // new live file.
    await appendFile(
      live,
      cri([t[3] as string], 'stdout', 16) +
        cri([info(1, 'err')], 'stderr') +
        cri(t.slice(4)),
    );
    const rotated = `${live}.20260101-120001`;
    const content = await readFile(live);
    await writeFile(`${rotated}.gz.tmp`, gzipSync(content));
    await rename(`${rotated}.gz.tmp`, `${rotated}.gz`);
    await rm(live);
    await writeFile(live, cri([info(100), info(101)]));
    agent = spawnBinary(['run', '--config', join(dir, 'agent.yaml')], dir);
    // The new live file and the .gz are read independently: both done.
    await eventually(
      async () => {
        const out = await delivered();
        return out.includes(info(100)) && out.includes(info(1, 'err'));
      },
      60_000,
      'the new file and the rest of the rotated one delivered',
    );
    const out = await delivered();
    expect(ofTrace(out)).toEqual([t.join('\n')]);
    // The rotated file's pending records ended with it (info(1, 'err'));
    // info(101) waits for a next line.
    expect(
      out.filter((l) => !l.startsWith('2026-11-23 10:00:00 INFO')),
    ).toEqual([t.join('\n')]);
    expect(new Set(out)).toEqual(
      new Set([
        ...Array.from({ length: 50 }, (_, i) => info(i)),
        t.join('\n'),
        info(0, 'err'),
        info(1, 'err'),
        info(100),
      ]),
    );
    // Each once: read on from the committed offset, nothing again.
    expect(out).toHaveLength(new Set(out).size);
  }, 180_000);
});
