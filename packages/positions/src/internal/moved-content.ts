/** Bound on remembered redirections (oldest forgotten first). */
const MAX_MOVED = 10_000;

/** Where the content of one epoch of a file identity lives on. */
export interface MovedTo {
  readonly id: string;
  readonly epoch: number;
}

/**
 * In memory only: for a file identity reset by copytruncate, the copy that
 * holds its old content at the same offsets, so late commits of that
 * content move the copy's position.
 */
export class MovedContent {
  private readonly map = new Map<string, MovedTo>();

  set(key: string, epoch: number, to: MovedTo): void {
    this.map.set(`${key}\u0000${epoch}`, to);
    if (this.map.size > MAX_MOVED) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }

  get(key: string, epoch: number): MovedTo | undefined {
    return this.map.get(`${key}\u0000${epoch}`);
  }
}
