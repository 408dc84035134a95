// /status.buffer: what lc holds on disk while a sink is down. The sink is
// Loki, the in-test endpoint speaking its protobuf + snappy wire format with
// its status codes (no Loki server runs here).
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileStatus } from '@lc/monitors';
import { createLokiTestServer } from '@lc/sinks/testing';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { parseConfig, unwrapConfig } from '../config/load-config.js';
import { bufferStatus } from './buffer-status.js';
import { createAgent } from './create-agent.js';

const file = (over: Partial<FileStatus>): FileStatus => ({
  id: '1:1',
  path: '/logs/app.log',
  state: 'active',
  open: true,
  readOffset: 0,
  committedOffset: 0,
  size: 0,
  lagBytes: 0,
  linesRead: 0,
  bytesRead: 0,
  lastReadAtMs: 0,
  ...over,
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bufferStatus', () => {
  it('should list rotated and deleted files still open with bytes not made safe, and nothing else', () => {
    const s = bufferStatus(
      undefined,
      true,
      undefined,
      [
        file({ id: 'a', state: 'rotated', size: 100, committedOffset: 40 }),
        file({ id: 'b', state: 'deleted', size: 10, committedOffset: 10 }),
        file({ id: 'c', state: 'deleted', size: 90, committedOffset: 0 }),
        file({ id: 'd', state: 'active', size: 90, committedOffset: 0 }),
        file({ id: 'e', state: 'rotated', open: false, size: 9 }),
      ],
      1_000,
    );
    expect(s.filesAtRisk).toEqual([
      { id: 'a', path: '/logs/app.log', state: 'rotated', unsafeBytes: 60 },
      { id: 'c', path: '/logs/app.log', state: 'deleted', unsafeBytes: 90 },
    ]);
    expect(s.persistence).toEqual({
      enabled: false,
      batches: 0,
      records: 0,
      bytes: 0,
      oldestAgeSeconds: 0,
    });
  });

  it('should sum the WAL batches and age the oldest', () => {
    const batch = (createdAtMs: number, records: number) => ({
      id: String(createdAtMs),
      pendingSinks: ['loki'],
      attempts: {},
      records,
      bytes: records * 10,
      createdAtMs,
    });
    const s = bufferStatus(
      undefined,
      false,
      [batch(4_000, 2), batch(1_000, 3)],
      [],
      6_000,
    );
    expect(s.persistence).toEqual({
      enabled: true,
      batches: 2,
      records: 5,
      bytes: 50,
      oldestAgeSeconds: 5,
    });
    expect(s.spill.enabled).toBe(false);
  });
});

describe('createAgent status().buffer', () => {
  it('should show the backlog on disk while Loki answers 503, with its oldest age, and drain to zero once it is back', async () => {
    const loki = await createLokiTestServer();
    let down = true;
    loki.setHandler(() =>
      down ? { status: 503, body: 'ingester not ready' } : undefined,
    );
    const tmp = await createTempDir('lc-agent-buffer-');
    await mkdir(join(tmp.path, 'logs'), { recursive: true });
    const n = 20_000;
    await appendFile(
      join(tmp.path, 'logs', 'app.log'),
      `${Array.from({ length: n }, (_, i) => `buffered-${i}`).join('\n')}\n`,
    );
    // Defaults, but for the paths and the sink.
    const config = unwrapConfig(
      parseConfig(
        `app: {data_dir: ${tmp.path}/data}
sources: {files: [{include: ["${tmp.path}/logs/*.log"]}]}
sinks: {loki: [{name: loki, url: "${loki.url}"}]}
`,
        { env: {} },
      ),
    );
    const agent = createAgent({ config });
    await agent.start();
    try {
      // Everything read is held on disk: the spill and the WAL, no file at risk.
      await until(() => {
        const b = agent.status().buffer;
        return b.spill.records + b.persistence.records === n;
      }, 'the whole file on disk');
      await new Promise((r) => setTimeout(r, 50));
      const held = agent.status().buffer;
      expect(held.spill.enabled).toBe(true);
      expect(held.spill.records).toBeGreaterThan(0);
      expect(held.spill.bytes).toBeGreaterThan(0);
      expect(held.spill.oldestAgeSeconds).toBeGreaterThan(0);
      expect(held.persistence.enabled).toBe(true);
      expect(held.filesAtRisk).toEqual([]);
      // The sink's failure is visible with its cause.
      const [sink] = agent.status().sinks;
      expect(sink?.name).toBe('loki');
      expect(sink?.lastError?.message).toMatch(/503/);
      down = false;
      await until(
        () => new Set(loki.entries().map((e) => e.line)).size === n,
        'every line in Loki',
      );
      await until(() => {
        const b = agent.status().buffer;
        return b.spill.records === 0 && b.persistence.batches === 0;
      }, 'an empty buffer');
      expect(agent.status().buffer.spill.oldestAgeSeconds).toBe(0);
    } finally {
      await agent.shutdown();
      await loki.close();
      await tmp.cleanup();
    }
  });
});
