import type { Clock } from '@lc/core';
import { formatTimestampNs, timestampFromMs } from '@lc/core';
import type Dockerode from 'dockerode';
import type {
  ContainerStreamName,
  DockerLogEntry,
} from '../docker-log-parser.js';
import type { AssembledLine } from '../line-assembler.js';
import { ContainerLineAssembler } from '../line-assembler.js';
import { AttachStream } from './attach-stream.js';

/** Bytes an attach capture keeps before it gives up (the logs stream is the real source). */
export const ATTACH_CAPTURE_MAX_BYTES = 16 * 1024 * 1024;
const HEADER_BYTES = 8;
const NEWLINE = 0x0a;
/** Lines delivered per stream that align a capture made after the start. */
const ALIGN_LINES = 16;

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
 * stream when the container stops even when the reader is behind. The
 * output kept here (up to `maxBytes`) is released once the container's
 * log was read to its end; when the container went away before that,
 * the lines the logs stream did not deliver are replayed from here.
 * Attach output has no engine timestamps: replayed lines carry the time
 * they were read.
 *
 * The attach is made at the `create` event without `logs=1`, and is
 * whole only when the engine answered it before the container's `start`
 * event (dockerd 20.10 `ContainerAttach`: state checks under the
 * container's lock, then the output pipes attached, then the answer; a
 * start holds that lock from before the process runs until after its
 * `start` event). Otherwise it may lack the first lines (written before
 * its pipes were attached) and is not used: a `docker run` or a start
 * right after the create wins the lock, and a short container may write
 * everything during its start. No attach with `logs=1` is made: made
 * while the container runs it can repeat and miss lines (its pipes and
 * its read of the log file are not atomic, and the engine's log copier
 * lags under load), and made after the exit it has the engine open a
 * new log writer in the container's directory while the removal deletes
 * it (`unlinkat …: directory not empty`: the container stays "Removal In
 * Progress").
 */
export class AttachCapture {
  private readonly attach: AttachStream;
  private started = false;
  private proven = false;
  private readonly recent: Record<ContainerStreamName, string[]> = {
    stdout: [],
    stderr: [],
  };
  private readonly options: AttachCaptureOptions;

  constructor(options: AttachCaptureOptions) {
    this.options = options;
    this.attach = new AttachStream({
      container: options.container,
      clock: options.clock,
      maxBytes: options.maxBytes ?? ATTACH_CAPTURE_MAX_BYTES,
      onGiveUp: options.onGiveUp,
    });
  }

  /** True once some output was received. */
  get hasOutput(): boolean {
    return this.attach.hasOutput;
  }

  /**
   * The container's first `start` event (epoch ms `startedAtMs`): the
   * capture is whole if the engine answered the attach before.
   */
  onStart(startedAtMs: number | undefined): void {
    if (this.started) return;
    this.started = true;
    const answered = this.attach.answeredAtMs;
    this.proven =
      answered !== undefined &&
      startedAtMs !== undefined &&
      answered < startedAtMs;
  }

  /** A line the logs stream delivered (the last few align a replay). */
  noteDelivered(line: AssembledLine): void {
    const recent = this.recent[line.stream];
    recent.push(line.line);
    if (recent.length > ALIGN_LINES) recent.shift();
  }

  /** The container died: its attach is closed once quiet. */
  onDie(): void {
    this.attach.onDie();
  }

  /** Stop capturing and forget the output (the logs stream has it). */
  release(): void {
    this.attach.release();
  }

  /**
   * Wait (at most `timeoutMs`) for the attach to end, then its output
   * (`tty`: raw, else multiplexed) as log entries in order, each line one
   * entry (a last piece without newline is a partial entry). Undefined
   * when given up, released, or ended by an engine error.
   */
  async entries(
    tty: boolean,
    timeoutMs: number,
  ): Promise<DockerLogEntry[] | undefined> {
    const all = await this.attach.take(timeoutMs);
    if (all === undefined || endsWithAttachError(tty, all)) return undefined;
    return this.toEntries(tty, all);
  }

  /**
   * Replay the captured output as lines (split lines joined, up to
   * `maxLineBytes`) once the attach ended (waiting at most `timeoutMs`),
   * without what the logs stream delivered already (`delivered[stream]`
   * lines). Made before the start, the capture is whole: the first
   * `delivered[stream]` lines of each stream are skipped. Made after, it
   * may lack the first lines: it is aligned on the last lines delivered
   * (up to {@link ALIGN_LINES} per stream), which must occur exactly once
   * in it, and a stream that delivered nothing cannot be aligned.
   * Resolves the number of lines, or undefined when nothing usable was
   * kept or it could not be aligned.
   */
  async replay(
    tty: boolean,
    timeoutMs: number,
    maxLineBytes: number,
    delivered: Readonly<Record<ContainerStreamName, number>>,
    deliver: (line: AssembledLine) => void,
  ): Promise<number | undefined> {
    const entries = await this.entries(tty, timeoutMs);
    if (entries === undefined) return undefined;
    const all: AssembledLine[] = [];
    const assembler = new ContainerLineAssembler({
      tty,
      maxLineBytes,
      onLine: (line) => all.push(line),
    });
    for (const e of entries) assembler.push(e);
    assembler.flushPartials();
    const from =
      this.proven || !this.started ? delivered : this.align(all, delivered);
    if (from === undefined) return undefined;
    let lines = 0;
    const seen = { stdout: 0, stderr: 0 };
    for (const line of all) {
      if (seen[line.stream]++ < from[line.stream]) continue;
      lines++;
      deliver(line);
    }
    return lines;
  }

  /** Per stream, the index in `all` of the first line not delivered yet. */
  private align(
    all: readonly AssembledLine[],
    delivered: Readonly<Record<ContainerStreamName, number>>,
  ): Record<ContainerStreamName, number> | undefined {
    const from = { stdout: 0, stderr: 0 };
    for (const stream of ['stdout', 'stderr'] as const) {
      const seq = all.filter((l) => l.stream === stream).map((l) => l.line);
      const tail = this.recent[stream];
      if (delivered[stream] === 0 || tail.length === 0) {
        // Nothing delivered: whether the capture has the first line is unknown.
        if (seq.length > 0) return undefined;
        continue;
      }
      let at = -1;
      for (let p = 0; p + tail.length <= seq.length; p++) {
        if (!tail.every((text, i) => seq[p + i] === text)) continue;
        if (at !== -1) return undefined; // ambiguous
        at = p;
      }
      if (at === -1) return undefined; // it starts after the last delivered
      from[stream] = at + tail.length;
    }
    return from;
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

const ATTACH_ERROR = Buffer.from('Error attaching: ');

/**
 * True when the engine ended the attach with its own error line on stdout
 * (`Error attaching: …`: the log replay failed, e.g. the log file was
 * deleted by the removal): what came before is not the whole output.
 */
function endsWithAttachError(tty: boolean, all: Buffer): boolean {
  let last: Buffer | undefined;
  if (tty) {
    const end =
      all.length > 0 && all[all.length - 1] === NEWLINE
        ? all.length - 1
        : all.length;
    last = all.subarray(all.lastIndexOf(NEWLINE, end - 1) + 1);
  } else {
    for (let pos = 0; all.length - pos >= HEADER_BYTES;) {
      const size = all.readUInt32BE(pos + 4);
      const start = pos + HEADER_BYTES;
      if (all.length - start < size) break;
      last = all[pos] === 1 ? all.subarray(start, start + size) : undefined;
      pos = start + size;
    }
  }
  return (
    last !== undefined &&
    last.subarray(0, ATTACH_ERROR.length).equals(ATTACH_ERROR)
  );
}
