import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspaceRoot } from '@lc/test-utils';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundle the monitor child (`test/fixtures/file-monitor-child.ts`, from the
 * TypeScript sources) into one ESM file with esbuild, so each restart of the
 * crash tests costs a plain `node child.mjs` start instead of a TypeScript
 * compile. Returns the bundle path.
 */
export async function bundleMonitorChild(): Promise<string> {
  const require = createRequire(
    join(workspaceRoot(packageDir), 'node_modules/tsup/package.json'),
  );
  const esbuild = require('esbuild') as {
    build(options: Record<string, unknown>): Promise<unknown>;
  };
  const outDir = join(packageDir, 'node_modules/.cache/lc-file-child');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'file-monitor-child.mjs');
  await esbuild.build({
    entryPoints: [join(packageDir, 'test/fixtures/file-monitor-child.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@lc/source'],
    logLevel: 'error',
    external: ['dockerode'],
    banner: {
      js: "import { createRequire as __lcCreateRequire } from 'node:module'; const require = __lcCreateRequire(import.meta.url);",
    },
  });
  return outfile;
}
