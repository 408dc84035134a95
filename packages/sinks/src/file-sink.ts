import {
  LcError,
  once,
  shutDownResult,
  silentLogger,
  systemClock,
  WriteResults,
} from '@lc/core';
import type {
  Instrumentation,
  LogRecord,
  RecordFailure,
  Sink,
  WriteResult,
} from '@lc/core';
import { getOrCreateMetric } from '@lc/core';
import { Counter, Registry } from 'prom-client';
import { createLineEncoder } from './internal/line-encoder.js';
import type { LineFormat } from './internal/format-record.js';
import { OpenFileTable } from './internal/open-file-table.js';
import type { FileRotationOptions } from './internal/open-file-table.js';
import { compilePathTemplate } from './internal/path-template.js';
import { createSinkMetrics } from './internal/sink-metrics.js';
import { invalidOption, validatePositive } from './internal/validate.js';

export type { FileRotationOptions } from './internal/open-file-table.js';

/** Options of {@link createFileSink}. */
export interface FileSinkOptions extends Instrumentation {
  /** Output directory; nothing is ever written outside it. Required. */
  directory: string;
  /** Sink name. @default 'file' */
  name?: string;
  /**
   * Output path relative to `directory`. Placeholders: `{source}`,
   * `{source_kind}`, `{container_name}`, `{container_id}` (12 chars),
   * `{file_name}` (base name without extension), `{date}` (YYYY-MM-DD, UTC,
   * of the record), `{hour}` (HH), `{label:NAME}`. Substituted values are
   * sanitised (no `/`, `..`, control characters). @default '{source_kind}-{source}.log'
   */
  pathTemplate?: string;
  /** `json` (JSON Lines) or `text` (the line only). @default 'json' */
  format?: LineFormat;
  /** `always`: fsync touched files before `write` resolves; `never`: leave it to the OS (`flush` still fsyncs). @default 'never' */
  fsync?: 'always' | 'never';
  /** Rotation and retention. @default none */
  rotation?: FileRotationOptions;
  /** Open handles kept; least recently written are closed. @default 64 */
  maxOpenFiles?: number;
}

const DEFAULT_TEMPLATE = '{source_kind}-{source}.log';
const DEFAULT_MAX_OPEN = 64;
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
const PERMANENT = new Set(['EISDIR', 'ENAMETOOLONG', 'ENOTDIR']);

function classifyIoError(
  sink: string,
  path: string,
  error: unknown,
): { retryable: boolean; error: LcError } {
  if (LcError.isInstance(error)) return { retryable: false, error };
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (DISK_FULL.has(code)) {
    return {
      retryable: true,
      error: new LcError({
        code: 'LC_ERR_DISK_FULL',
        message: `sink "${sink}": no space left writing ${path} (${code}); nothing partial was kept, free space and it will be retried`,
        cause: error,
        details: { sink, path, errno: code },
      }),
    };
  }
  return {
    retryable: !PERMANENT.has(code),
    error: new LcError({
      code: 'LC_ERR_SINK_WRITE',
      message: `sink "${sink}": writing ${path} failed: ${(error as Error).message}`,
      cause: error,
      details: { sink, path, errno: code },
    }),
  };
}

/**
 * A sink that appends records to local files as JSON Lines or text, with
 * sanitised path templates, rotation, gzip, retention and an LRU of open
 * handles. A write resolves `success` only after every byte is written
 * (and fsync'd with `fsync: 'always'`); a failed append leaves no partial
 * line. After `shutdown`, `write` resolves `failure` `LC_ERR_SHUT_DOWN`.
 */
export function createFileSink(options: FileSinkOptions): Sink {
  const name = options.name ?? 'file';
  if (typeof options.directory !== 'string' || options.directory === '') {
    invalidOption(
      'createFileSink',
      'directory',
      'a non-empty path',
      options.directory,
    );
  }
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'text')
    invalidOption('createFileSink', 'format', "'json' or 'text'", format);
  const fsync = options.fsync ?? 'never';
  if (fsync !== 'always' && fsync !== 'never')
    invalidOption('createFileSink', 'fsync', "'always' or 'never'", fsync);
  const rotation = options.rotation ?? {};
  if (rotation.maxBytes !== undefined)
    validatePositive('createFileSink', 'rotation.maxBytes', rotation.maxBytes);
  if (rotation.intervalMs !== undefined)
    validatePositive(
      'createFileSink',
      'rotation.intervalMs',
      rotation.intervalMs,
    );
  if (rotation.maxFiles !== undefined)
    validatePositive('createFileSink', 'rotation.maxFiles', rotation.maxFiles);
  const maxOpenFiles = validatePositive(
    'createFileSink',
    'maxOpenFiles',
    options.maxOpenFiles ?? DEFAULT_MAX_OPEN,
  );
  const pathOf = compilePathTemplate(
    options.directory,
    options.pathTemplate ?? DEFAULT_TEMPLATE,
  );
  const encode = createLineEncoder(format);
  const logger = options.logger ?? silentLogger;
  const onError =
    options.onError ??
    ((error: unknown) =>
      logger.error({ err: error, sink: name }, 'file sink background error'));
  const metrics = createSinkMetrics(options.registry, 'file', name);
  const registry = options.registry ?? new Registry();
  const events = getOrCreateMetric(
    registry,
    'lc_sink_file_events_total',
    () =>
      new Counter({
        name: 'lc_sink_file_events_total',
        help: 'File sink rotations, repaired torn tails and files deleted by retention.',
        labelNames: ['sink', 'event'],
        registers: [registry],
      }),
  );
  const table = new OpenFileTable({
    maxOpenFiles,
    rotation,
    clock: options.clock ?? systemClock,
    logger,
    onError,
    count: (event) => events.inc({ sink: name, event }),
  });
  let closed = false;
  // Appends are serialised so concurrent writes never interleave lines.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };

  const writeBatch = async (
    batch: readonly LogRecord[],
  ): Promise<WriteResult> => {
    const groups = new Map<string, number[]>();
    const failures: RecordFailure[] = [];
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i] as LogRecord;
      let path: string;
      try {
        path = pathOf(record);
      } catch (error) {
        failures.push({
          index: i,
          retryable: false,
          error: classifyIoError(name, '?', error).error,
        });
        continue;
      }
      const group = groups.get(path);
      if (group === undefined) groups.set(path, [i]);
      else group.push(i);
    }
    const written: string[] = [];
    const fail = (indexes: number[], path: string, error: unknown): void => {
      const c = classifyIoError(name, path, error);
      for (const index of indexes)
        failures.push({ index, retryable: c.retryable, error: c.error });
      logger.warn({ sink: name, path, err: error }, 'file sink write failed');
    };
    for (const [path, indexes] of groups) {
      try {
        // Bytes straight from the records (see createLineEncoder); the
        // index list is skipped when the whole batch goes to one file.
        const all = indexes.length === batch.length && groups.size === 1;
        await table.append(path, encode(batch, all ? undefined : indexes));
        written.push(path);
      } catch (error) {
        fail(indexes, path, error);
      }
    }
    if (fsync === 'always') {
      for (const path of written) {
        try {
          await table.sync([path]);
        } catch (error) {
          fail(groups.get(path) as number[], path, error);
        }
      }
    }
    metrics.records('failed', failures.length);
    metrics.records('delivered', batch.length - failures.length);
    return WriteResults.partial(failures, batch.length);
  };

  const shutdown = once(async () => {
    closed = true;
    await serial(async () => {
      await table.sync().catch(onError);
      await table.closeAll();
    });
  });

  return {
    name,
    async write(batch, { signal }) {
      if (closed) return shutDownResult(name);
      if (batch.length === 0) return WriteResults.success();
      if (signal.aborted) {
        return WriteResults.retryable(
          new LcError({
            code: 'LC_ERR_ABORTED',
            message: `sink "${name}": write aborted before it started`,
          }),
        );
      }
      return serial(() => writeBatch(batch));
    },
    async flush() {
      if (closed) return;
      await serial(async () => {
        await table.sync();
        await table.settle();
      });
    },
    shutdown,
  };
}
