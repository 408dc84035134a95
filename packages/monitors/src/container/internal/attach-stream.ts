import type { Clock } from '@lc/core';
import type Dockerode from 'dockerode';

/** After the container died, the attach is closed once quiet this long, ms. */
const DIE_QUIET_MS = 250;
/** …and at the latest this long after the die, ms (still busy: incomplete). */
const DIE_MAX_MS = 3_000;

/** Options of {@link AttachStream}. */
export interface AttachStreamOptions {
  readonly container: Dockerode.Container;
  readonly clock: Clock;
  /** Most bytes kept; past it the attach stops and says so. */
  readonly maxBytes: number;
  /** It stopped keeping output (too much, or the attach failed). */
  readonly onGiveUp: (reason: string) => void;
}

/**
 * One `POST /containers/{id}/attach?stream=1` request (without `logs=1`:
 * what is written after it), keeping the raw
 * output it receives (multiplexed frames, or raw bytes for a TTY) until
 * it is taken or released.
 */
export class AttachStream {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private stream:
    (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
  private released = false;
  private gaveUp = false;
  private lastDataAtMs = 0;
  private answeredAt: number | undefined;
  private dieTimer: ReturnType<Clock['setTimeout']> | undefined;
  private readonly abort = new AbortController();
  private readonly ended: Promise<void>;
  private done = false;
  private readonly options: AttachStreamOptions;

  constructor(options: AttachStreamOptions) {
    this.options = options;
    this.ended = this.run().finally(() => {
      this.done = true;
    });
  }

  /** Epoch ms at which the engine answered the attach (undefined before). */
  get answeredAtMs(): number | undefined {
    return this.answeredAt;
  }

  /** True once some output was received. */
  get hasOutput(): boolean {
    return this.bytes > 0;
  }

  /** True while the output kept is whole (nothing given up or released). */
  get usable(): boolean {
    return !this.released && !this.gaveUp;
  }

  /**
   * The container died. Its attach is closed once no more output comes:
   * the engine keeps an attach made after the exit open (waiting for a
   * restart). The output kept stays until {@link release} or {@link take}.
   */
  onDie(): void {
    if (this.released || this.done || this.dieTimer !== undefined) return;
    const clock = this.options.clock;
    const diedAt = clock.monotonicNow();
    const check = (): void => {
      const now = clock.monotonicNow();
      // Quiet counts only once the engine answered the attach.
      if (
        this.stream !== undefined &&
        now - this.lastDataAtMs >= DIE_QUIET_MS
      ) {
        this.abort.abort();
        this.stream.destroy?.();
        return;
      }
      if (now - diedAt >= DIE_MAX_MS) {
        this.giveUp(
          this.stream === undefined
            ? 'the engine did not answer the attach'
            : 'output still coming after the container died',
        );
        this.abort.abort();
        this.stream?.destroy?.();
        return;
      }
      this.dieTimer = clock.setTimeout(check, DIE_QUIET_MS);
      this.dieTimer.unref();
    };
    this.dieTimer = clock.setTimeout(check, DIE_QUIET_MS);
    this.dieTimer.unref();
  }

  /** Stop the attach and forget the output. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.dieTimer !== undefined)
      this.options.clock.clearTimeout(this.dieTimer);
    this.chunks.length = 0;
    this.abort.abort();
    this.stream?.destroy?.();
  }

  /**
   * Wait (at most `timeoutMs`) for the attach to end — the container's
   * output closed — then take the output kept and release the attach.
   * Undefined when that output is not known whole: given up, released,
   * or the attach still open after `timeoutMs`.
   */
  async take(timeoutMs: number): Promise<Buffer | undefined> {
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    await Promise.race([
      this.ended,
      new Promise<void>((resolve) => {
        timer = this.options.clock.setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    if (timer !== undefined) this.options.clock.clearTimeout(timer);
    if (!this.done) {
      this.giveUp(`the attach did not end within ${timeoutMs} ms`);
      this.abort.abort();
      this.stream?.destroy?.();
    }
    const out = this.usable
      ? Buffer.concat(this.chunks, this.bytes)
      : undefined;
    this.release();
    return out;
  }

  private async run(): Promise<void> {
    try {
      const stream = (await this.options.container.attach({
        stream: true,
        logs: false,
        stdout: true,
        stderr: true,
        abortSignal: this.abort.signal,
      } as Dockerode.ContainerAttachOptions)) as NodeJS.ReadableStream;
      this.answeredAt = this.options.clock.now();
      this.stream = stream as typeof this.stream;
      this.lastDataAtMs = this.options.clock.monotonicNow();
      if (this.released) {
        this.stream?.destroy?.();
        return;
      }
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        this.lastDataAtMs = this.options.clock.monotonicNow();
        if (this.released || this.gaveUp) continue;
        if (this.bytes + chunk.length > this.options.maxBytes) {
          // A long-running container: its logs stream is the source.
          this.giveUp(`more than ${this.options.maxBytes} bytes`);
          this.stream?.destroy?.();
          return;
        }
        this.chunks.push(chunk);
        this.bytes += chunk.length;
      }
    } catch (error) {
      // Closed by onDie (quiet after the die): what was kept is whole.
      if (!this.released && !this.abort.signal.aborted)
        this.giveUp(error instanceof Error ? error.message : String(error));
    }
  }

  private giveUp(reason: string): void {
    if (this.gaveUp) return;
    this.gaveUp = true;
    this.chunks.length = 0;
    this.options.onGiveUp(reason);
  }
}
