import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kubernetesIncludeGlobs } from '@lc/monitors';
import { createTempDir } from '@lc/test-utils';
import { describe, expect, it } from 'vitest';
import { openPositionsEarly } from './early-positions.js';

describe('openPositionsEarly', () => {
  it('should record since when the Kubernetes source watches its files, at process start', async () => {
    const tmp = await createTempDir('lc-early-k8s-');
    try {
      const config = join(tmp.path, 'agent.yaml');
      await writeFile(
        config,
        `app: {data_dir: ${tmp.path}/data}
sources:
  kubernetes: {enabled: true, root: ${tmp.path}/pods, include: {namespaces: [prod]}}
sinks: {stdout: [{}]}
`,
      );
      const early = await openPositionsEarly(config);
      try {
        expect(early.store).toBeDefined();
        const saved = await early.store!.load();
        const watched = saved.filter((p) => p.kind === 'file-watch');
        expect(watched.map((p) => p.id)).toEqual(
          kubernetesIncludeGlobs({
            root: `${tmp.path}/pods`,
            include: { namespaces: ['prod'] },
          }),
        );
        expect(
          (watched[0] as unknown as { cursor: { sinceMs: number } }).cursor
            .sinceMs,
        ).toBeLessThanOrEqual(Date.now());
      } finally {
        await early.store?.close();
        early.lock?.release();
      }
    } finally {
      await tmp.cleanup();
    }
  });
});
