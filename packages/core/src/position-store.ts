import type { LifecycleOptions } from './sink.js';
import type { Position } from './position.js';

/** One atomic change to a {@link PositionStore}. */
export interface PositionChanges {
  /** Positions to insert or replace, keyed by `positionKey()`. */
  readonly upserts: readonly Position[];
  /** Keys (`positionKey()`) to remove. Applied after `upserts`. */
  readonly deletes?: readonly string[];
}

/** A stored backup. */
export interface PositionBackup {
  /** Opaque id, accepted by `restore`. */
  readonly id: string;
  /** When it was taken, ms since the epoch. */
  readonly createdAtMs: number;
}

/**
 * Durable storage of source positions (JSON file, memory, Redis, ...).
 * A store holds a map from `positionKey(position)` to the position.
 * Every method rejects with `LC_ERR_SHUT_DOWN` after `close`.
 */
export interface PositionStore {
  /**
   * Read every stored position. A corrupt store is handled per the store's
   * policy (restore a backup, recreate, or reject `LC_ERR_POSITIONS_CORRUPT`).
   */
  load(): Promise<Position[]>;
  /**
   * Apply `changes` atomically: after a crash, a later `load` sees either
   * all of them or none. Resolves once they are durable.
   */
  save(changes: PositionChanges): Promise<void>;
  /** Snapshot the current state; returns the new backup. */
  backup(): Promise<PositionBackup>;
  /** Backups, newest first. */
  listBackups(): Promise<PositionBackup[]>;
  /**
   * Replace the current state with a backup (the newest when `id` is
   * omitted). Rejects `LC_ERR_POSITIONS_CORRUPT` if it cannot be read.
   */
  restore(id?: string): Promise<void>;
  /** Release files and connections. Idempotent. */
  close(options?: LifecycleOptions): Promise<void>;
}
