import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@lc/source'] },
  // Tests run in vite's SSR environment, which has its own conditions:
  // without this, workspace packages resolve to their (possibly stale) dist.
  ssr: {
    resolve: { conditions: ['@lc/source'], externalConditions: ['@lc/source'] },
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
