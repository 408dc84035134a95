import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type {
  Instrumentation,
  Position,
  PositionBackup,
  PositionChanges,
  PositionStore,
} from '@lc/core';
import { LcError, positionKey, silentLogger, systemClock } from '@lc/core';
import { storeMetrics } from './internal/metrics.js';

/** Options of {@link createRedisPositionStore}. */
export interface RedisPositionStoreOptions extends Instrumentation {
  /** `redis://host:port/db`. Ignored when `client` is given. */
  url?: string;
  /** An existing ioredis client; not closed by `close()`. */
  client?: Redis;
  /**
   * Agent namespace: positions live in the hash `<namespace>:positions`.
   * Agents that must share positions (a pod moving between nodes) use the
   * same namespace; unrelated agents must not.
   */
  namespace: string;
  /** Backups kept (`<namespace>:positions:backup:<id>`). @default 3 */
  backupCount?: number;
  /** Per-command timeout, ms. @default 5000 */
  commandTimeoutMs?: number;
}

const STORE = 'redis';

/**
 * A {@link PositionStore} in one Redis hash per agent namespace (field =
 * `positionKey`, value = the position as JSON). `save` applies all upserts
 * and deletes in one MULTI/EXEC, so other agents and a crash see all or
 * none. Entries that are not valid JSON are skipped on load, logged and
 * counted. After `close`, every call rejects `LC_ERR_SHUT_DOWN`.
 */
export function createRedisPositionStore(
  options: RedisPositionStoreOptions,
): PositionStore {
  const { namespace } = options;
  if (typeof namespace !== 'string' || namespace === '') {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `positions: option namespace must be a non-empty string, got ${JSON.stringify(namespace)}`,
      details: { option: 'namespace' },
    });
  }
  if (
    options.client === undefined &&
    (typeof options.url !== 'string' || options.url === '')
  ) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: 'positions: redis store needs option url or client',
      details: { option: 'url' },
    });
  }
  const backupCount = options.backupCount ?? 3;
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger).child({
    component: 'positions-redis',
    namespace,
  });
  const metrics = storeMetrics(options.registry);
  const owned = options.client === undefined;
  const client =
    options.client ??
    new (loadRedis())(options.url as string, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      commandTimeout: options.commandTimeoutMs ?? 5000,
    });
  if (owned)
    client.on('error', (error: unknown) =>
      logger.warn({ err: error }, 'redis connection error'),
    );
  const key = `${namespace}:positions`;
  const backupsKey = `${namespace}:positions:backups`;
  const backupKey = (id: string): string =>
    `${namespace}:positions:backup:${id}`;
  let closed = false;

  const guard = (): void => {
    if (closed) {
      throw new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: `redis position store ${namespace} is closed`,
      });
    }
  };
  const io = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    guard();
    try {
      return await fn();
    } catch (error) {
      if (LcError.isInstance(error)) throw error;
      metrics.errors.inc({ store: STORE, type: what });
      throw new LcError({
        code: 'LC_ERR_POSITIONS_IO',
        message: `redis position store ${namespace}: ${what} failed: ${(error as Error).message}`,
        cause: error,
        details: { namespace },
      });
    }
  };
  const exec = async (multi: ReturnType<Redis['multi']>): Promise<void> => {
    const results = await multi.exec();
    if (results === null) throw new Error('transaction aborted');
    for (const [error] of results) if (error) throw error;
  };

  return {
    load: () =>
      io('load', async () => {
        const all = await client.hgetall(key);
        const out: Position[] = [];
        for (const [field, value] of Object.entries(all)) {
          try {
            const p = JSON.parse(value) as Position;
            if (positionKey(p) !== field) throw new Error('key mismatch');
            out.push(p);
          } catch (error) {
            metrics.corruption.inc({ store: STORE });
            logger.error(
              { field, err: error },
              'skipped a corrupt position entry',
            );
          }
        }
        return out;
      }),
    save: (changes: PositionChanges) =>
      io('save', async () => {
        const deletes = changes.deletes ?? [];
        if (changes.upserts.length === 0 && deletes.length === 0) return;
        const multi = client.multi();
        if (changes.upserts.length > 0) {
          const fields: Record<string, string> = {};
          for (const p of changes.upserts)
            fields[positionKey(p)] = JSON.stringify(p);
          multi.hset(key, fields);
        }
        // Deletes apply after upserts (PositionChanges contract).
        if (deletes.length > 0) multi.hdel(key, ...deletes);
        await exec(multi);
      }),
    backup: () =>
      io('backup', async (): Promise<PositionBackup> => {
        const createdAtMs = clock.now();
        // A counter orders backups taken within the same millisecond.
        const seq = await client.incr(`${namespace}:positions:backup-seq`);
        const id = `${seq}-${createdAtMs}`;
        await exec(
          client
            .multi()
            .del(backupKey(id))
            .copy(key, backupKey(id), 'REPLACE')
            .zadd(backupsKey, seq, id),
        );
        metrics.backups.inc({ store: STORE });
        const stale = await client.zrevrange(backupsKey, backupCount, -1);
        if (stale.length > 0) {
          await exec(
            client
              .multi()
              .zrem(backupsKey, ...stale)
              .del(...stale.map(backupKey)),
          );
        }
        return { id, createdAtMs };
      }),
    listBackups: () =>
      io('backup', async () => {
        const raw = await client.zrevrange(backupsKey, 0, -1, 'WITHSCORES');
        const out: PositionBackup[] = [];
        for (let i = 0; i + 1 < raw.length; i += 2) {
          const id = raw[i] as string;
          out.push({ id, createdAtMs: Number(id.slice(id.indexOf('-') + 1)) });
        }
        return out;
      }),
    restore: (id?: string) =>
      io('restore', async () => {
        const chosen = id ?? (await client.zrevrange(backupsKey, 0, 0))[0];
        if (
          chosen === undefined ||
          (await client.zscore(backupsKey, chosen)) === null
        ) {
          throw new LcError({
            code: 'LC_ERR_POSITIONS_CORRUPT',
            message: `no position backup ${id === undefined ? 'exists' : JSON.stringify(id)} in namespace ${namespace}`,
            details: { namespace, id },
          });
        }
        // An empty hash has no key, so a backup of an empty state is absent: DEL + COPY gives empty.
        await exec(
          client.multi().del(key).copy(backupKey(chosen), key, 'REPLACE'),
        );
        metrics.recoveries.inc({ store: STORE, strategy: 'manual_restore' });
      }),
    async close() {
      if (closed) return;
      closed = true;
      if (owned) {
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      }
    },
  };
}

/**
 * ioredis, loaded on first use: importing `@lc/positions` for the JSON
 * store alone must not cost its ~20 MB of resident memory.
 */
function loadRedis(): typeof Redis {
  const mod = createRequire(import.meta.url)('ioredis') as {
    Redis: typeof Redis;
  };
  return mod.Redis;
}
