import { LcError } from '@lc/core';
import { createCollectingIntake } from '@lc/core/testing';
import {
  createMemoryPositionStore,
  createPositionManager,
} from '@lc/positions';
import { describe, expect, it } from 'vitest';
import type { ContainerMonitorOptions } from './container-monitor-options.js';
import { resolveContainerMonitorOptions } from './container-monitor-options.js';
import { createContainerMonitor } from './container-monitor.js';
import {
  compileContainerFilter,
  globToRegExp,
  sanitizeLabelName,
} from './internal/container-filter.js';
import { toDockerSince } from './internal/log-stream-session.js';
import { detectSelfContainerId } from './internal/self-container.js';

const base = (): ContainerMonitorOptions => ({
  intake: createCollectingIntake(),
  positions: createPositionManager({ store: createMemoryPositionStore() }),
});

describe('createContainerMonitor', () => {
  it('should apply the documented defaults', () => {
    expect(resolveContainerMonitorOptions(base())).toMatchObject({
      maxConcurrentStreams: 50,
      streamRotationMs: 300_000,
      staleStreamMs: 60_000,
      drainMs: 2_000,
    });
  });

  it.each([
    ['maxConcurrentStreams', 0],
    ['streamRotationMs', -1],
    ['staleStreamMs', 1.5],
    ['maxLineBytes', 10],
    ['reconnectBaseMs', 0],
  ] as const)('should reject %s = %s naming the option', (name, value) => {
    let error: unknown;
    try {
      createContainerMonitor({ ...base(), [name]: value });
    } catch (e) {
      error = e;
    }
    expect(LcError.isInstance(error, 'LC_ERR_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toContain(name);
  });

  it('should reject a missing intake or positions and a bad feedback share', () => {
    expect(() =>
      createContainerMonitor({ ...base(), intake: undefined as never }),
    ).toThrow(/intake/);
    expect(() =>
      createContainerMonitor({ ...base(), positions: {} as never }),
    ).toThrow(/positions/);
    expect(() =>
      createContainerMonitor({ ...base(), feedbackGuard: { maxShare: 1.5 } }),
    ).toThrow(/maxShare/);
  });

  describe('start', () => {
    it('should reject LC_ERR_DOCKER when the engine cannot be reached', async () => {
      const monitor = createContainerMonitor({
        ...base(),
        socketPath: '/nonexistent/docker.sock',
      });
      await expect(monitor.start()).rejects.toMatchObject({
        code: 'LC_ERR_DOCKER',
      });
      await monitor.shutdown();
    });
  });

  describe('shutdown', () => {
    it('should be idempotent and make start reject', async () => {
      const monitor = createContainerMonitor(base());
      await Promise.all([monitor.shutdown(), monitor.shutdown()]);
      await expect(monitor.start()).rejects.toMatchObject({
        code: 'LC_ERR_SHUT_DOWN',
      });
      expect(monitor.status()).toEqual([]);
    });
  });
});

describe('compileContainerFilter', () => {
  const facts = {
    name: 'api-1',
    image: 'nginx:1.27',
    labels: { tier: 'web', team: 'a' },
  };
  it('should require every include and no exclude', () => {
    expect(compileContainerFilter()(facts)).toBe(true);
    expect(compileContainerFilter({ includeNames: ['api-*'] })(facts)).toBe(
      true,
    );
    expect(compileContainerFilter({ includeNames: ['db-*'] })(facts)).toBe(
      false,
    );
    expect(compileContainerFilter({ excludeNames: ['api-?'] })(facts)).toBe(
      false,
    );
    expect(compileContainerFilter({ includeImages: ['nginx:*'] })(facts)).toBe(
      true,
    );
    expect(compileContainerFilter({ excludeImages: ['nginx:*'] })(facts)).toBe(
      false,
    );
    expect(
      compileContainerFilter({ includeLabels: ['tier=web', 'team'] })(facts),
    ).toBe(true);
    expect(compileContainerFilter({ includeLabels: ['tier=db'] })(facts)).toBe(
      false,
    );
    expect(compileContainerFilter({ excludeLabels: ['team'] })(facts)).toBe(
      false,
    );
  });

  it('should treat regex characters in globs literally', () => {
    expect(globToRegExp('a.b+(c)').test('a.b+(c)')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });

  it('should sanitize label names for Loki', () => {
    expect(sanitizeLabelName('com.example/team-name')).toBe(
      'com_example_team_name',
    );
    expect(sanitizeLabelName('1abc')).toBe('_1abc');
  });
});

describe('toDockerSince', () => {
  it('should format seconds.nanoseconds', () => {
    expect(toDockerSince('1795458469613708640')).toBe('1795458469.613708640');
    expect(toDockerSince('5')).toBe('0.000000005');
  });
});

describe('detectSelfContainerId', () => {
  const id = 'a'.repeat(64);
  it('should find the id in cgroup v1 and mountinfo (cgroup v2) paths', () => {
    expect(detectSelfContainerId(() => `12:pids:/docker/${id}\n`)).toBe(id);
    expect(
      detectSelfContainerId((p) =>
        p.endsWith('cgroup')
          ? '0::/\n'
          : `600 550 0:50 /var/lib/docker/containers/${id}/hostname /etc/hostname rw\n`,
      ),
    ).toBe(id);
  });
  it('should return undefined outside a container', () => {
    expect(detectSelfContainerId(() => '0::/user.slice\n')).toBeUndefined();
    expect(
      detectSelfContainerId(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });
});
