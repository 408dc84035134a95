import type { Clock } from '@lc/core';
import { formatTimestampNs, timestampFromMs } from '@lc/core';
import type Dockerode from 'dockerode';
import type {
  ContainerStreamName,
  DockerLogEntry,
} from '../docker-log-parser.js';
import type { AssembledLine } from '../line-assembler.js';
import { ContainerLineAssembler } from '../line-assembler.js';

/** Bytes an attach capture keeps before it gives up (the logs stream is the real source). */
export const ATTACH_CAPTURE_MAX_BYTES = 16 * 1024 * 1024;
const HEADER_BYTES = 8;
/** After the container died, the attach is closed once quiet this long, ms. */
const DIE_QUIET_MS = 250;
/** …and at the latest this long after the die, ms (still busy: incomplete). */
const DIE_MAX_MS = 3_000;
const NEWLINE = 0x0a;

/** Options of {@link AttachCapture}. */
export interface AttachCaptureOptions {
  readonly container: Dockerode.Container;
  readonly clock: Clock;
  /** Most bytes kept; past it the capture stops and says so. */
  readonly maxBytes?: number;
  /** The capture stopped keeping output (too much, or the attach failed). */
  readonly onGiveUp: (reason: string) => void;
}

/**
 * A safety net for containers removed at exit (`docker run --rm`): the
 * engine refuses `GET /logs` once a container is dead or marked for
 * removal, which can be ~100 ms after it started, and ends a follow
 * stream when the container stops even when the reader is behind. An
 * attach opened at the `create` event (before the container runs)
 * receives its whole output whatever happens later. It is kept (up to
 * `maxBytes`) until the container's log was read to its end, then
 * {@link release}d; when the container went away before that, the lines
 * the logs stream did not deliver are replayed from here. Attach output
 * has no engine timestamps: replayed lines carry the time they were read.
 */
export class AttachCapture {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private stream:
    (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
  private released = false;
  private gaveUp = false;
  private lastDataAtMs = 0;
  private dieTimer: ReturnType<Clock['setTimeout']> | undefined;
  private readonly abort = new AbortController();
  private readonly ended: Promise<void>;
  /** The attach ended (output closed, or closed by us). */
  private done = false;
  private readonly options: AttachCaptureOptions;
  private readonly maxBytes: number;

  constructor(options: AttachCaptureOptions) {
    this.options = options;
    this.maxBytes = options.maxBytes ?? ATTACH_CAPTURE_MAX_BYTES;
    this.ended = this.run().finally(() => {
      this.done = true;
    });
  }

  /** True once some output was received. */
  get hasOutput(): boolean {
    return this.bytes > 0;
  }

  /** True when output was kept and the capture is whole (nothing given up). */
  get usable(): boolean {
    return !this.released && !this.gaveUp;
  }

  /**
   * The container died. Its attach is closed once no more output comes:
   * the engine keeps an attach to a stopped container open (waiting for a
   * restart) and does not finish removing a container while one is open.
   * The output kept stays until {@link release} or a replay.
   */
  onDie(): void {
    if (this.released || this.dieTimer !== undefined) return;
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

  /** Stop capturing and forget the output (the logs stream has it). */
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
   * output closed — then the captured output (`tty`: raw, else
   * multiplexed) as log entries in order, each line one entry (a last
   * piece without newline is a partial entry). Undefined when the output
   * kept is not known whole: given up, released, or the attach still open.
   */
  async entries(
    tty: boolean,
    timeoutMs: number,
  ): Promise<DockerLogEntry[] | undefined> {
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
    if (!this.usable) return undefined;
    const out = this.toEntries(tty, Buffer.concat(this.chunks, this.bytes));
    this.release();
    return out;
  }

  /**
   * Replay the captured output as lines (split lines joined, up to
   * `maxLineBytes`) once the attach ended (waiting at most `timeoutMs`),
   * without the first `skip[stream]` lines of each stream (delivered
   * already by the logs stream: both see the same output, line for line).
   * Resolves the number of lines, or undefined when nothing usable was kept.
   */
  async replay(
    tty: boolean,
    timeoutMs: number,
    maxLineBytes: number,
    skip: Readonly<Record<ContainerStreamName, number>>,
    deliver: (line: AssembledLine) => void,
  ): Promise<number | undefined> {
    const entries = await this.entries(tty, timeoutMs);
    if (entries === undefined) return undefined;
    let lines = 0;
    const seen = { stdout: 0, stderr: 0 };
    const assembler = new ContainerLineAssembler({
      tty,
      maxLineBytes,
      onLine: (line) => {
        // The first lines of each stream came through the logs stream.
        if (++seen[line.stream] <= skip[line.stream]) return;
        lines++;
        deliver(line);
      },
    });
    for (const e of entries) assembler.push(e);
    assembler.flushPartials();
    return lines;
  }

  private async run(): Promise<void> {
    try {
      const stream = (await this.options.container.attach({
        stream: true,
        logs: true,
        stdout: true,
        stderr: true,
        abortSignal: this.abort.signal,
      } as Dockerode.ContainerAttachOptions)) as NodeJS.ReadableStream;
      this.stream = stream as typeof this.stream;
      this.lastDataAtMs = this.options.clock.monotonicNow();
      if (this.released) {
        this.stream?.destroy?.();
        return;
      }
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        this.lastDataAtMs = this.options.clock.monotonicNow();
        if (this.released || this.gaveUp) continue;
        if (this.bytes + chunk.length > this.maxBytes) {
          // A long-running container: its logs stream is the source.
          this.giveUp(`more than ${this.maxBytes} bytes`);
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

  private toEntries(tty: boolean, all: Buffer): DockerLogEntry[] {
    const out: DockerLogEntry[] = [];
    // Strictly increasing read times, so the entries keep their order.
    let ns = BigInt(
      formatTimestampNs(timestampFromMs(this.options.clock.now())),
    );
    const push = (stream: ContainerStreamName, content: Buffer): void => {
      const timestampNs = String(ns++);
      const ms = Number(BigInt(timestampNs) / 1_000_000n);
      out.push({
        stream,
        timestampNs,
        timestamp: {
          timestampMs: ms,
          timestampNanos: Number(BigInt(timestampNs) % 1_000_000n),
        },
        content,
      });
    };
    const lines = (stream: ContainerStreamName, buf: Buffer): void => {
      let pos = 0;
      while (pos < buf.length) {
        const nl = buf.indexOf(NEWLINE, pos);
        const end = nl === -1 ? buf.length : nl + 1;
        push(stream, buf.subarray(pos, end));
        pos = end;
      }
    };
    if (tty) {
      lines('stdout', all);
      return out;
    }
    let pos = 0;
    while (all.length - pos >= HEADER_BYTES) {
      const type = all[pos] as number;
      const size = all.readUInt32BE(pos + 4);
      const start = pos + HEADER_BYTES;
      if (all.length - start < size) break;
      if (type === 1 || type === 2)
        lines(
          type === 1 ? 'stdout' : 'stderr',
          all.subarray(start, start + size),
        );
      pos = start + size;
    }
    return out;
  }
}
