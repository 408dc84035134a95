import { resolve } from 'node:path';
import type { DeadLetterFilter } from '@lc/core';
import { createDiskLog } from '@lc/buffer';
import { createDeadLetterStore } from '@lc/persistence';
import {
  createJsonFilePositionStore,
  createMemoryPositionStore,
  createRedisPositionStore,
} from '@lc/positions';
import cliProgress from 'cli-progress';
import type { Command, Option } from 'commander';
import { z } from 'zod';
import { formatConfigIssues } from '../config/load-config.js';
import type { AgentConfig } from '../config/schema.js';
import { configSchema } from '../config/schema.js';
import { buildSinks } from '../runtime/build-sinks.js';
import { holdDataDir } from '../runtime/data-dir-lock.js';
import type { DataDirLock } from '../runtime/data-dir-lock.js';
import { EXIT_CODES, loadAgentConfig } from '../runtime/run-agent.js';

const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

async function configOrExit(
  path: string | undefined,
): Promise<AgentConfig | undefined> {
  const result = await loadAgentConfig(path);
  if (result.ok) return result.config;
  process.stderr.write(
    `invalid configuration${path === undefined ? '' : ` in ${path}`}:\n${formatConfigIssues(result.issues)}\n`,
  );
  process.exitCode = EXIT_CODES.config;
  return undefined;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function dlqDirectory(config: AgentConfig): string {
  return config.dlq.directory ?? resolve(config.app.data_dir, 'dlq');
}

/**
 * Commands that write the DLQ take the data directory's lock, so they never
 * run under a live agent (use its API instead); undefined, with exit 2 and
 * a line naming the holder, when an agent holds it.
 */
function lockDataDir(config: AgentConfig): DataDirLock | undefined {
  const held = holdDataDir(config.app.data_dir, undefined);
  if (held.ok) return held.lock;
  process.stderr.write(
    `lc-agent: ${held.message}; use the running agent's API (POST /dlq/replay) or stop it first\n`,
  );
  process.exitCode = EXIT_CODES.config;
  return undefined;
}

/** Register validate, positions, dlq, buffer and schema commands. */
export function runCommands(
  program: Command,
  configOption: () => Option,
): void {
  program
    .command('validate')
    .description('Validate a config file; prints every error with its path.')
    .addOption(configOption())
    .option('--json', 'print the effective config as JSON when valid')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const config = await configOrExit(opts.config);
      if (config === undefined) return;
      out(
        opts.json === true
          ? JSON.stringify(config, null, 2)
          : `configuration ok${opts.config === undefined ? ' (embedded default)' : `: ${opts.config}`}`,
      );
    });

  program
    .command('schema')
    .description('Print the JSON Schema of the config file.')
    .action(() => out(JSON.stringify(configJsonSchema(), null, 2)));

  const positions = program
    .command('positions')
    .description('Inspect saved read positions.');
  positions
    .command('list')
    .description('List positions from the configured store.')
    .addOption(configOption())
    .option('--json', 'JSON output')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const config = await configOrExit(opts.config);
      if (config === undefined) return;
      const p = config.positions;
      const store =
        p.store === 'redis'
          ? createRedisPositionStore({
              url: p.redis_url,
              namespace: p.namespace,
            })
          : p.store === 'memory'
            ? createMemoryPositionStore()
            : createJsonFilePositionStore({
                path: p.path ?? resolve(config.app.data_dir, 'positions.json'),
              });
      try {
        const list = await store.load();
        if (opts.json === true) return out(JSON.stringify(list, null, 2));
        const rows = list.map((pos) => {
          const r = pos as unknown as Record<string, unknown>;
          const where =
            pos.kind === 'file'
              ? String(r['path'])
              : String(r['name'] ?? pos.id);
          const at =
            pos.kind === 'file'
              ? `offset ${String(r['offset'])}`
              : pos.kind === 'container'
                ? `ts ${String(r['lastTimestampNs'])}`
                : JSON.stringify(r['cursor']);
          return [
            pos.kind,
            pos.id,
            where,
            at,
            new Date(pos.updatedAtMs).toISOString(),
          ];
        });
        out(
          table([['KIND', 'ID', 'PATH/NAME', 'POSITION', 'UPDATED'], ...rows]),
        );
        out(`${list.length} position(s)`);
      } finally {
        await store.close();
      }
    });

  const dlq = program
    .command('dlq')
    .description(
      'Inspect, replay or purge the dead-letter queue (stop the agent first, or use the HTTP API).',
    );
  const filterOptions = (c: Command) =>
    c
      .addOption(configOption())
      .option('--sink <name>', 'only entries of this sink')
      .option('--code <code>', 'only entries with this error code');
  const filterOf = (opts: {
    sink?: string;
    code?: string;
  }): DeadLetterFilter => ({
    ...(opts.sink === undefined ? {} : { sink: opts.sink }),
    ...(opts.code === undefined ? {} : { code: opts.code }),
  });

  filterOptions(dlq.command('list').description('List dead-lettered records.'))
    .option('--limit <n>', 'most entries', '50')
    .option('--json', 'JSON output')
    .action(
      async (opts: {
        config?: string;
        sink?: string;
        code?: string;
        limit: string;
        json?: boolean;
      }) => {
        const config = await configOrExit(opts.config);
        if (config === undefined) return;
        const lock = lockDataDir(config);
        if (lock === undefined) return;
        const store = await createDeadLetterStore({
          directory: dlqDirectory(config),
        });
        try {
          const filter = filterOf(opts);
          const entries = await store.list({
            ...filter,
            limit: Number(opts.limit),
          });
          const total = await store.count(filter);
          if (opts.json === true)
            return out(JSON.stringify({ total, entries }, null, 2));
          out(
            table([
              ['ID', 'SINK', 'CODE', 'ATTEMPTS', 'LAST FAILURE', 'LINE'],
              ...entries.map((e) => [
                e.id,
                e.sink,
                e.reason.code,
                String(e.attempts),
                new Date(e.lastFailureAtMs).toISOString(),
                e.record.line.slice(0, 60),
              ]),
            ]),
          );
          out(`${entries.length} of ${total} entr${total === 1 ? 'y' : 'ies'}`);
        } finally {
          await store.close();
        }
      },
    );

  filterOptions(
    dlq
      .command('replay')
      .description(
        'Send dead-lettered records to their sinks again (sinks from the config).',
      ),
  )
    .option('--no-progress', 'no progress bar')
    .action(
      async (opts: {
        config?: string;
        sink?: string;
        code?: string;
        progress: boolean;
      }) => {
        const config = await configOrExit(opts.config);
        if (config === undefined) return;
        const lock = lockDataDir(config);
        if (lock === undefined) return;
        const store = await createDeadLetterStore({
          directory: dlqDirectory(config),
        });
        const { sinks } = await buildSinks(config, {});
        const bar =
          opts.progress && process.stderr.isTTY
            ? new cliProgress.SingleBar(
                {
                  stream: process.stderr,
                  format:
                    'replay {sink} [{bar}] {value}/{total} failed {failed}',
                },
                cliProgress.Presets.shades_classic,
              )
            : undefined;
        let replayed = 0;
        let failed = 0;
        try {
          for (const sink of sinks.filter(
            (s) => opts.sink === undefined || s.name === opts.sink,
          )) {
            const filter = { ...filterOf(opts), sink: sink.name };
            const total = await store.count(filter);
            if (total === 0) continue;
            bar?.start(total, 0, { sink: sink.name, failed: 0 });
            const r = await store.replay({
              sink,
              filter,
              onProgress: (p) => bar?.update(p.done, { failed: p.failed }),
            });
            bar?.stop();
            out(`${sink.name}: replayed ${r.replayed}, failed ${r.failed}`);
            replayed += r.replayed;
            failed += r.failed;
          }
          out(`replayed ${replayed}, failed ${failed}`);
          if (failed > 0) process.exitCode = EXIT_CODES.failure;
        } finally {
          bar?.stop();
          await Promise.all(sinks.map((s) => s.shutdown()));
          await store.close();
          lock.release();
        }
      },
    );

  filterOptions(
    dlq.command('purge').description('Delete dead-lettered records.'),
  )
    .option('--yes', 'really delete')
    .action(
      async (opts: {
        config?: string;
        sink?: string;
        code?: string;
        yes?: boolean;
      }) => {
        const config = await configOrExit(opts.config);
        if (config === undefined) return;
        const lock = lockDataDir(config);
        if (lock === undefined) return;
        const store = await createDeadLetterStore({
          directory: dlqDirectory(config),
        });
        try {
          const filter = filterOf(opts);
          if (opts.yes !== true) {
            out(
              `${await store.count(filter)} entr(ies) would be purged; pass --yes to delete them`,
            );
            return;
          }
          out(`purged ${await store.purge(filter)} entr(ies)`);
        } finally {
          await store.close();
          lock.release();
        }
      },
    );

  program
    .command('buffer')
    .description('Inspect on-disk logs (WAL, DLQ).')
    .command('inspect <directory>')
    .description(
      'Print segment stats and count unacknowledged records of a disk log directory.',
    )
    .option('--json', 'JSON output')
    .action(async (directory: string, opts: { json?: boolean }) => {
      const log = await createDiskLog({ directory, fsync: 'never' });
      try {
        let unacked = 0;
        let bytes = 0;
        let oldest: number | undefined;
        for await (const entry of log.read()) {
          unacked++;
          bytes += entry.payload.length;
          oldest ??= entry.timestampMs;
        }
        const report = {
          directory,
          nextSeq: log.nextSeq,
          unacknowledged: unacked,
          unacknowledgedBytes: bytes,
          oldestUnacknowledgedAt:
            oldest === undefined ? null : new Date(oldest).toISOString(),
          stats: log.stats(),
        };
        out(JSON.stringify(report, null, opts.json === true ? 2 : 2));
      } finally {
        await log.shutdown();
      }
    });
}

/** JSON Schema of the config file (input form: durations and sizes as strings). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
}
