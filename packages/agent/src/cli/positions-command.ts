import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Position, PositionStore } from '@lc/core';
import {
  createJsonFilePositionStore,
  createRedisPositionStore,
} from '@lc/positions';
import type { Command, Option } from 'commander';
import { positionsFilePath } from '../config/defaults.js';
import type { AgentConfig } from '../config/schema.js';
import { configForCommand } from './command-config.js';
import type { ConfigOptions } from './command-config.js';
import { printJson, printLine } from './output.js';
import { table } from './table.js';

/**
 * `lc-agent positions list`: saved read positions from the configured
 * store. Read-only: a JSON store that does not exist yet lists nothing
 * and nothing is created.
 */
export function addPositionsCommand(
  program: Command,
  configOption: () => Option,
): void {
  const positions = program
    .command('positions')
    .description('Inspect saved read positions.');
  positions
    .command('list')
    .description('List positions from the configured store.')
    .addOption(configOption())
    .option('--json', 'JSON output: an array of positions')
    .action(async (opts: ConfigOptions) => {
      const config = await configForCommand(opts);
      if (config === undefined) return;
      const list = await loadPositions(config);
      if (opts.json === true) return printJson(list);
      printLine(
        table([
          ['KIND', 'ID', 'PATH/NAME', 'POSITION', 'UPDATED'],
          ...list.map(row),
        ]),
      );
      printLine(`${list.length} position(s)`);
    });
}

async function loadPositions(config: AgentConfig): Promise<Position[]> {
  const p = config.positions;
  let store: PositionStore;
  if (p.store === 'redis')
    store = createRedisPositionStore({
      url: p.redis_url,
      namespace: p.namespace,
    });
  // The memory store lives only inside a running agent (GET /positions).
  else if (p.store === 'memory') return [];
  else {
    const path = positionsFilePath(config.app.data_dir, p.path);
    // Nothing saved yet (or a typo): nothing to list, nothing to create.
    if (!storeFilesExist(path)) return [];
    store = createJsonFilePositionStore({ path });
  }
  try {
    return [...(await store.load())];
  } finally {
    await store.close();
  }
}

/** The JSON store's file, its backups (`.bak.N`) or journals (`.journal.N`). */
function storeFilesExist(path: string): boolean {
  const name = basename(path);
  try {
    return readdirSync(dirname(path)).some(
      (f) => f === name || f.startsWith(`${name}.`),
    );
  } catch {
    return false;
  }
}

function row(pos: Position): string[] {
  const r = pos as unknown as Record<string, unknown>;
  const where =
    pos.kind === 'file' ? String(r['path']) : String(r['name'] ?? pos.id);
  const at =
    pos.kind === 'file'
      ? `offset ${String(r['offset'])}`
      : pos.kind === 'container'
        ? `ts ${String(r['lastTimestampNs'])}`
        : JSON.stringify(r['cursor']);
  return [pos.kind, pos.id, where, at, new Date(pos.updatedAtMs).toISOString()];
}
