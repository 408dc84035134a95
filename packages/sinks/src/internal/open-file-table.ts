import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Clock, Logger } from '@lc/core';

/** When and how the file sink rotates files. */
export interface FileRotationOptions {
  /** Rotate before a write would take the file past this size. */
  maxBytes?: number;
  /** Rotate a file this long after it was opened/created (checked on write). */
  intervalMs?: number;
  /** Gzip rotated files (in the background; awaited by flush/shutdown). @default false */
  gzip?: boolean;
  /** Keep at most this many rotated files per active file; older ones are deleted. */
  maxFiles?: number;
}

interface OpenFile {
  readonly path: string;
  readonly fh: FileHandle;
  size: number;
  readonly openedAtMs: number;
}

/** Settings of {@link OpenFileTable}. */
export interface OpenFileTableOptions {
  readonly maxOpenFiles: number;
  readonly rotation: FileRotationOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onError: (error: unknown) => void;
  /** Count a rotation, a repaired tail or a deleted file. */
  readonly count: (event: 'rotated' | 'repaired' | 'deleted') => void;
}

/**
 * Open append handles keyed by path: least-recently-used ones are closed
 * past `maxOpenFiles`; files are rotated by size/age; a torn last line left
 * by a crash is cut off when a file is opened; a failed append is
 * truncated back so no partial line remains.
 */
export class OpenFileTable {
  private readonly files = new Map<string, OpenFile>();
  private readonly background = new Set<Promise<void>>();
  private rotationSeq = 0;

  private readonly options: OpenFileTableOptions;

  constructor(options: OpenFileTableOptions) {
    this.options = options;
  }

  /** Append whole lines; on error the file is cut back to its old size. */
  async append(path: string, data: Buffer): Promise<void> {
    let file = await this.get(path);
    if (this.shouldRotate(file, data.length)) {
      await this.rotate(file);
      file = await this.get(path);
    }
    const start = file.size;
    try {
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten } = await file.fh.write(
          data,
          offset,
          data.length - offset,
        );
        offset += bytesWritten;
      }
      file.size = start + data.length;
    } catch (error) {
      await file.fh.truncate(start).catch(() => undefined);
      throw error;
    }
  }

  /** fsync the given open files (all when omitted). */
  async sync(paths?: Iterable<string>): Promise<void> {
    const list =
      paths === undefined
        ? [...this.files.values()]
        : [...paths]
            .map((p) => this.files.get(p))
            .filter((f) => f !== undefined);
    await Promise.all(list.map((f) => f.fh.datasync()));
  }

  /** Wait for background gzip jobs. */
  async settle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /** Close every handle. */
  async closeAll(): Promise<void> {
    const list = [...this.files.values()];
    this.files.clear();
    await Promise.all(list.map((f) => f.fh.close().catch(() => undefined)));
    await this.settle();
  }

  /** Paths currently open, least recently used first. */
  openPaths(): string[] {
    return [...this.files.keys()];
  }

  private shouldRotate(file: OpenFile, incoming: number): boolean {
    const { maxBytes, intervalMs } = this.options.rotation;
    if (file.size === 0) return false;
    if (maxBytes !== undefined && file.size + incoming > maxBytes) return true;
    return (
      intervalMs !== undefined &&
      this.options.clock.now() - file.openedAtMs >= intervalMs
    );
  }

  private async get(path: string): Promise<OpenFile> {
    const hit = this.files.get(path);
    if (hit !== undefined) {
      this.files.delete(path);
      this.files.set(path, hit);
      return hit;
    }
    while (this.files.size >= this.options.maxOpenFiles) {
      const [oldestPath, oldest] = this.files.entries().next().value as [
        string,
        OpenFile,
      ];
      this.files.delete(oldestPath);
      await oldest.fh.close().catch(this.options.onError);
    }
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(path, 'a+');
    let size: number;
    try {
      size = await this.repairTail(fh, path);
    } catch (error) {
      await fh.close().catch(() => undefined);
      throw error;
    }
    const file: OpenFile = {
      path,
      fh,
      size,
      openedAtMs: this.options.clock.now(),
    };
    this.files.set(path, file);
    return file;
  }

  /** Cut an unterminated last line (a crash mid-append); returns the size. */
  private async repairTail(fh: FileHandle, path: string): Promise<number> {
    const { size } = await fh.stat();
    if (size === 0) return 0;
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return size;
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await fh.read(chunk, 0, end - start, start);
      const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) {
        end = start + nl + 1;
        break;
      }
      end = start;
    }
    await fh.truncate(end);
    this.options.count('repaired');
    this.options.logger.warn(
      { path, size, keptBytes: end },
      'file sink cut a torn last line',
    );
    return end;
  }

  private async rotate(file: OpenFile): Promise<void> {
    this.files.delete(file.path);
    await file.fh.close();
    const stamp = new Date(this.options.clock.now())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace('.', '');
    const target = `${file.path}.${stamp}-${String(++this.rotationSeq).padStart(4, '0')}`;
    await rename(file.path, target);
    this.options.count('rotated');
    const job = (async () => {
      if (this.options.rotation.gzip === true) {
        await pipeline(
          createReadStream(target),
          createGzip(),
          createWriteStream(`${target}.gz`),
        );
        await unlink(target);
      }
      await this.enforceRetention(file.path);
    })().catch(this.options.onError);
    this.background.add(job);
    void job.finally(() => this.background.delete(job));
  }

  private async enforceRetention(path: string): Promise<void> {
    const { maxFiles } = this.options.rotation;
    if (maxFiles === undefined) return;
    const dir = dirname(path);
    const prefix = `${basename(path)}.`;
    const rotated = (await readdir(dir)).filter(
      (n) =>
        n.startsWith(prefix) &&
        /^\d{8}T\d{9}Z-\d{4}/.test(n.slice(prefix.length)),
    );
    // Gzip jobs may briefly leave both `x` and `x.gz`: count each rotation once.
    const unique = [
      ...new Set(rotated.map((n) => n.replace(/\.gz$/, ''))),
    ].sort();
    for (const name of unique.slice(0, Math.max(0, unique.length - maxFiles))) {
      for (const candidate of [name, `${name}.gz`]) {
        if (rotated.includes(candidate)) {
          await unlink(join(dir, candidate)).catch(() => undefined);
          this.options.count('deleted');
        }
      }
    }
  }
}
