import { readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createDiskLog } from '@lc/buffer';
import type { Command } from 'commander';
import { EXIT_CODES } from '../runtime/exit-codes.js';
import { printJson, printLine, reportFailure } from './output.js';
import { table } from './table.js';

/** Files only a disk log directory (WAL, DLQ, spill) holds. */
const DISK_LOG_FILE = /^(seg-\d{16}\.log|acks\.log|acks\.ckpt)$/;

/**
 * `lc-agent buffer inspect DIR`: segment stats and unacknowledged records
 * of a disk log directory. A path that is not an existing disk log
 * directory is refused (exit 2) before anything is opened, so nothing is
 * ever created; a real one is opened as the agent opens it.
 */
export function addBufferCommand(program: Command): void {
  program
    .command('buffer')
    .description('Inspect on-disk logs (WAL, DLQ, spill).')
    .command('inspect <directory>')
    .description(
      'Print segment stats and count unacknowledged records of a disk log directory (stop the agent first).',
    )
    .option('--json', 'JSON output')
    .action(async (directory: string, opts: { json?: boolean }) => {
      const problem = notADiskLog(resolve(directory));
      if (problem !== undefined) {
        reportFailure(opts.json, EXIT_CODES.config, [
          { message: `buffer inspect: ${problem}` },
        ]);
        return;
      }
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
          directory: resolve(directory),
          nextSeq: log.nextSeq,
          unacknowledged: unacked,
          unacknowledgedBytes: bytes,
          oldestUnacknowledgedAt:
            oldest === undefined ? null : new Date(oldest).toISOString(),
          stats: log.stats(),
        };
        if (opts.json === true) return printJson(report);
        const s = report.stats;
        printLine(
          table([
            ['directory', report.directory],
            ['segments', String(s.segments)],
            ['disk bytes', String(s.diskBytes)],
            ['next seq', String(report.nextSeq)],
            ['unacknowledged', String(unacked)],
            ['unacknowledged bytes', String(bytes)],
            ['oldest unacknowledged', report.oldestUnacknowledgedAt ?? '-'],
            ['corruptions', String(s.corruptions)],
            ['lost records', String(s.lostRecords)],
          ]),
        );
      } finally {
        await log.shutdown();
      }
    });
}

/** Why `dir` is not an existing disk log directory, or undefined. */
function notADiskLog(dir: string): string | undefined {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
    names = readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? `${dir} does not exist`
      : `${dir} cannot be read (${code ?? (error as Error).message})`;
  }
  return names.some((n) => DISK_LOG_FILE.test(n))
    ? undefined
    : `${dir} is not a disk log directory (no seg-*.log segments or acks journal)`;
}
