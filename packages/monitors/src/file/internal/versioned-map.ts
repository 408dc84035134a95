/**
 * A Map that counts its changes: `version` moves on every `set`, every
 * `delete` that removed something and every `clear`, so a reader can tell
 * that nothing changed since it last looked (a rescan of an unchanged
 * directory whose files were all tracked then skips them at once).
 */
export class VersionedMap<K, V> extends Map<K, V> {
  /** Bumped by every change. */
  version = 0;

  override set(key: K, value: V): this {
    this.version++;
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    const removed = super.delete(key);
    if (removed) this.version++;
    return removed;
  }

  override clear(): void {
    this.version++;
    super.clear();
  }
}
