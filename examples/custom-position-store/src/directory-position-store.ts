import {
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Position, PositionBackup, PositionStore } from '@lc/core';
import { LcError, positionKey } from '@lc/core';

const encode = (key: string) => Buffer.from(key).toString('base64url');

/**
 * A PositionStore keeping one JSON file per position in `directory`
 * (written atomically: temp file + rename). Backups are copies of the
 * directory under `directory/.backups/<id>`.
 */
export function createDirectoryPositionStore(directory: string): PositionStore {
  const backups = join(directory, '.backups');
  let closed = false;
  const guard = () => {
    if (closed)
      throw new LcError({
        code: 'LC_ERR_SHUT_DOWN',
        message: 'position store is closed',
      });
  };
  const readAll = async (dir: string): Promise<Position[]> => {
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: Position[] = [];
    for (const n of names.filter((n) => n.endsWith('.json'))) {
      out.push(JSON.parse(await readFile(join(dir, n), 'utf8')) as Position);
    }
    return out;
  };
  const writeAll = async (dir: string, positions: readonly Position[]) => {
    await mkdir(dir, { recursive: true });
    for (const p of positions) {
      const file = join(dir, `${encode(positionKey(p))}.json`);
      await writeFile(`${file}.tmp`, JSON.stringify(p));
      await rename(`${file}.tmp`, file);
    }
  };
  return {
    async load() {
      guard();
      return readAll(directory);
    },
    async save(changes) {
      guard();
      await writeAll(directory, changes.upserts);
      for (const key of changes.deletes ?? [])
        await rm(join(directory, `${encode(key)}.json`), { force: true });
    },
    async backup(): Promise<PositionBackup> {
      guard();
      const b = {
        id: `b-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
        createdAtMs: Date.now(),
      };
      await writeAll(join(backups, b.id), await readAll(directory));
      await writeFile(join(backups, b.id, 'meta'), JSON.stringify(b));
      return b;
    },
    async listBackups() {
      guard();
      const ids = await readdir(backups).catch(() => [] as string[]);
      const list: PositionBackup[] = [];
      for (const id of ids)
        list.push(
          JSON.parse(
            await readFile(join(backups, id, 'meta'), 'utf8'),
          ) as PositionBackup,
        );
      return list.sort((a, b) => b.createdAtMs - a.createdAtMs);
    },
    async restore(id) {
      guard();
      const chosen = id ?? (await this.listBackups())[0]?.id;
      const exists =
        chosen !== undefined &&
        (await readFile(join(backups, chosen, 'meta'), 'utf8').then(
          () => true,
          () => false,
        ));
      if (!exists) {
        throw new LcError({
          code: 'LC_ERR_POSITIONS_CORRUPT',
          message: `no position backup ${chosen ?? 'exists'}`,
        });
      }
      const from = await readAll(join(backups, chosen));
      for (const p of await readAll(directory))
        await rm(join(directory, `${encode(positionKey(p))}.json`), {
          force: true,
        });
      await writeAll(directory, from);
    },
    async close() {
      closed = true;
    },
  };
}
