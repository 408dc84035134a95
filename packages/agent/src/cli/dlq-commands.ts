import type { DeadLetterFilter } from '@lc/core';
import { createDeadLetterStore } from '@lc/persistence';
import cliProgress from 'cli-progress';
import type { Command, Option } from 'commander';
import type { AgentConfig } from '../config/schema.js';
import { buildSinks } from '../runtime/build-sinks.js';
import type { DataDirLock } from '../runtime/data-dir-lock.js';
import { EXIT_CODES } from '../runtime/exit-codes.js';
import {
  configForCommand,
  dlqDirectory,
  isDirectory,
  lockDataDir,
} from './command-config.js';
import type { ConfigOptions } from './command-config.js';
import { printJson, printLine } from './output.js';
import { table } from './table.js';
import { integerOption } from './usage.js';

interface FilterOptions extends ConfigOptions {
  readonly sink?: string;
  readonly code?: string;
}

const filterOf = (opts: FilterOptions): DeadLetterFilter => ({
  ...(opts.sink === undefined ? {} : { sink: opts.sink }),
  ...(opts.code === undefined ? {} : { code: opts.code }),
});

/**
 * The config and the data directory's lock for a DLQ command, or
 * undefined after reporting why not. `absent`: there is no DLQ directory,
 * so there is nothing to read and nothing was created or locked.
 */
async function openContext(opts: FilterOptions): Promise<
  | {
      config: AgentConfig;
      directory: string;
      lock?: DataDirLock;
      absent: boolean;
    }
  | undefined
> {
  const config = await configForCommand(opts);
  if (config === undefined) return undefined;
  const directory = dlqDirectory(config);
  if (!isDirectory(directory)) return { config, directory, absent: true };
  // No data directory: no agent runs on it, and the lock would create it.
  if (!isDirectory(config.app.data_dir))
    return { config, directory, absent: false };
  const lock = lockDataDir(config, opts.json);
  return lock === undefined
    ? undefined
    : { config, directory, lock, absent: false };
}

/** `lc-agent dlq list|replay|purge`: the dead-letter queue, offline. */
export function addDlqCommands(
  program: Command,
  configOption: () => Option,
): void {
  const dlq = program
    .command('dlq')
    .description(
      'Inspect, replay or purge the dead-letter queue (stop the agent first, or use the HTTP API).',
    );
  const withFilter = (c: Command) =>
    c
      .addOption(configOption())
      .option('--sink <name>', 'only entries of this sink')
      .option('--code <code>', 'only entries with this error code');

  withFilter(dlq.command('list').description('List dead-lettered records.'))
    .option('--limit <n>', 'most entries', integerOption(0), 50)
    .option('--json', 'JSON output: { total, entries }')
    .action(async (opts: FilterOptions & { limit: number }) => {
      const ctx = await openContext(opts);
      if (ctx === undefined) return;
      if (ctx.absent) {
        if (opts.json === true) return printJson({ total: 0, entries: [] });
        return printLine(
          `0 entries (no dead-letter queue at ${ctx.directory})`,
        );
      }
      const store = await createDeadLetterStore({ directory: ctx.directory });
      try {
        const filter = filterOf(opts);
        const entries = await store.list({ ...filter, limit: opts.limit });
        const total = await store.count(filter);
        if (opts.json === true) return printJson({ total, entries });
        printLine(
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
        printLine(
          `${entries.length} of ${total} entr${total === 1 ? 'y' : 'ies'}`,
        );
      } finally {
        await store.close();
        ctx.lock?.release();
      }
    });

  withFilter(
    dlq
      .command('replay')
      .description(
        'Send dead-lettered records to their sinks again (sinks from the config).',
      ),
  )
    .option('--no-progress', 'no progress bar')
    .action(async (opts: FilterOptions & { progress: boolean }) => {
      const ctx = await openContext(opts);
      if (ctx === undefined) return;
      if (ctx.absent)
        return printLine('replayed 0, failed 0 (no dead-letter queue)');
      const store = await createDeadLetterStore({ directory: ctx.directory });
      const { sinks } = await buildSinks(ctx.config, {});
      const bar =
        opts.progress && process.stderr.isTTY
          ? new cliProgress.SingleBar(
              {
                stream: process.stderr,
                format: 'replay {sink} [{bar}] {value}/{total} failed {failed}',
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
          printLine(`${sink.name}: replayed ${r.replayed}, failed ${r.failed}`);
          replayed += r.replayed;
          failed += r.failed;
        }
        printLine(`replayed ${replayed}, failed ${failed}`);
        if (failed > 0) process.exitCode = EXIT_CODES.failure;
      } finally {
        bar?.stop();
        await Promise.all(sinks.map((s) => s.shutdown()));
        await store.close();
        ctx.lock?.release();
      }
    });

  withFilter(dlq.command('purge').description('Delete dead-lettered records.'))
    .option('--yes', 'really delete')
    .action(async (opts: FilterOptions & { yes?: boolean }) => {
      const ctx = await openContext(opts);
      if (ctx === undefined) return;
      if (ctx.absent)
        return printLine('purged 0 entries (no dead-letter queue)');
      const store = await createDeadLetterStore({ directory: ctx.directory });
      try {
        const filter = filterOf(opts);
        if (opts.yes !== true) {
          printLine(
            `${await store.count(filter)} entr(ies) would be purged; pass --yes to delete them`,
          );
          return;
        }
        printLine(`purged ${await store.purge(filter)} entr(ies)`);
      } finally {
        await store.close();
        ctx.lock?.release();
      }
    });
}
