import type { Position } from '@lc/core';

/** Forgotten sources remembered, so a late commit cannot bring one back. */
const MAX_TOMBSTONES = 10_000;

/** What changed since the last save, taken by {@link PositionTable.takeChanges}. */
export interface TableChanges {
  readonly keys: string[];
  readonly deletes: string[];
}

/**
 * The position manager's in-memory state: positions by key, which of them
 * changed or were deleted since the last save, recently removed keys
 * (tombstones) and counts per kind (reported through `onKindCount`).
 */
export class PositionTable {
  readonly positions = new Map<string, Position>();
  private readonly dirty = new Set<string>();
  private readonly deleted = new Set<string>();
  private readonly tombstones = new Set<string>();
  private readonly kinds = new Map<string, number>();
  private readonly onKindCount: (kind: string, delta: number) => void;

  constructor(onKindCount: (kind: string, delta: number) => void) {
    this.onKindCount = onKindCount;
  }

  get size(): number {
    return this.positions.size;
  }

  /** Positions changed since the last save. */
  get dirtyCount(): number {
    return this.dirty.size;
  }

  get hasChanges(): boolean {
    return this.dirty.size > 0 || this.deleted.size > 0;
  }

  /** True when `key` was removed recently. */
  isTombstoned(key: string): boolean {
    return this.tombstones.has(key);
  }

  /** A monitor knows the source again: commits for it count from now on. */
  revive(key: string): void {
    this.tombstones.delete(key);
  }

  /** Set a position read from the store (not a change); false when already known or removed. */
  load(key: string, p: Position): boolean {
    if (this.positions.has(key) || this.tombstones.has(key)) return false;
    this.positions.set(key, p);
    this.countKind(p.kind, 1);
    return true;
  }

  /** Set a position as changed; true when it is new. */
  put(key: string, p: Position): boolean {
    const before = this.positions.get(key);
    if (before === undefined) this.countKind(p.kind, 1);
    this.positions.set(key, p);
    this.deleted.delete(key);
    this.dirty.add(key);
    return before === undefined;
  }

  /** Replace a position without marking it changed (e.g. its marker was filled in while saving). */
  refresh(key: string, expected: Position, p: Position): void {
    if (this.positions.get(key) === expected) this.positions.set(key, p);
  }

  /** Remove a position; false when it was not there. */
  drop(key: string): boolean {
    const before = this.positions.get(key);
    if (before === undefined) return false;
    this.countKind(before.kind, -1);
    this.positions.delete(key);
    this.dirty.delete(key);
    this.deleted.add(key);
    this.tombstones.add(key);
    if (this.tombstones.size > MAX_TOMBSTONES) {
      const oldest = this.tombstones.values().next().value;
      if (oldest !== undefined) this.tombstones.delete(oldest);
    }
    return true;
  }

  /** What to save now; the table starts tracking anew. */
  takeChanges(): TableChanges {
    const changes = { keys: [...this.dirty], deletes: [...this.deleted] };
    this.dirty.clear();
    this.deleted.clear();
    return changes;
  }

  /** A save failed: its changes are pending again (unless overtaken since). */
  requeue(changes: TableChanges): void {
    for (const key of changes.keys)
      if (this.positions.has(key)) this.dirty.add(key);
    for (const key of changes.deletes)
      if (!this.positions.has(key)) this.deleted.add(key);
  }

  /** Positions per kind, kinds with none left out. */
  byKind(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [kind, n] of this.kinds) if (n > 0) out[kind] = n;
    return out;
  }

  private countKind(kind: string, delta: number): void {
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + delta);
    this.onKindCount(kind, delta);
  }
}
