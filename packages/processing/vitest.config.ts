import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@lc/source'] },
  // Vite applies `resolve.conditions` to the client environment only;
  // tests run in the SSR one, which needs its own to load sources.
  ssr: { resolve: { conditions: ['@lc/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
