import { defineConfig } from 'tsup';

/**
 * Loaded at run time from the agent's own dependencies rather than bundled:
 * native addons, and clients required only when the config uses them.
 */
const RUNTIME_EXTERNAL = [
  'snappy',
  '@node-rs/xxhash',
  'dockerode',
  'kafkajs',
  'kafkajs-snappy',
  '@confluentinc/kafka-javascript',
  'ioredis',
];

export default defineConfig([
  {
    // The library: what `import '@lc/agent'` gives, dependencies external.
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
  },
  {
    // The `lc-agent` binary, bundled with its dependencies: Node resolves
    // and reads one file per lazily loaded part instead of hundreds of
    // modules, which is most of a cold start (see bench/startup.mjs).
    entry: { cli: 'src/cli.ts' },
    outDir: 'dist',
    format: ['esm'],
    dts: false,
    sourcemap: true,
    splitting: true,
    esbuildOptions(options) {
      options.minifyWhitespace = true;
      options.minifySyntax = true;
    },
    noExternal: [
      new RegExp(
        `^(?!(${RUNTIME_EXTERNAL.map((m) => m.replace('/', '\\/')).join('|')})(/|$))`,
      ),
    ],
    external: RUNTIME_EXTERNAL,
    platform: 'node',
    banner: {
      js: "import { createRequire as __lcCreateRequire } from 'node:module'; const require = __lcCreateRequire(import.meta.url);",
    },
  },
]);
