import type { ContainerCursor, Intake } from '@lc/core';
import { LcError } from '@lc/core';
import type Dockerode from 'dockerode';
import { DockerLogParser } from '../docker-log-parser.js';
import type { AssembledLine } from '../line-assembler.js';
import { ContainerLineAssembler } from '../line-assembler.js';

/** Why the monitor closed a stream itself. */
export type StreamCloseReason =
  'rotation' | 'stale' | 'drain' | 'shutdown' | 'excluded';

/** How a stream session ended. */
export type StreamOutcome =
  | { readonly kind: 'eof' }
  | { readonly kind: 'closed'; readonly reason: StreamCloseReason }
  | {
      readonly kind: 'open_failed' | 'read_failed' | 'intake_closed';
      readonly error: unknown;
    };

/** Options of {@link LogStreamSession}. */
export interface LogStreamSessionOptions {
  readonly container: Dockerode.Container;
  readonly tty: boolean;
  readonly resumeFrom: ContainerCursor;
  /**
   * Follow new output (`follow=1`), or read to the current end of the log
   * and end there. Only the end of a read without follow proves that the
   * whole log was read.
   */
  readonly follow: boolean;
  readonly maxLineBytes: number;
  readonly intake: Intake;
  /** Deliver a line; `false` asks to pause until the intake is writable. */
  readonly deliver: (line: AssembledLine) => boolean;
  readonly onBoundaryDuplicate: () => void;
  readonly onResumeMismatch: (reason: 'hash' | 'fewer-lines') => void;
  readonly onSystemError: (message: string) => void;
  /** The engine answered the logs request: the stream is open. */
  readonly onOpened?: () => void;
  readonly now: () => number;
}

/** `since` for the logs API: "seconds.nanoseconds" (inclusive). */
export function toDockerSince(timestampNs: string): string {
  const padded = timestampNs.padStart(10, '0');
  return `${padded.slice(0, -9)}.${padded.slice(-9)}`;
}

/** The part of docker-modem that dockerode's `Container.logs` uses. */
interface Modem {
  dial(
    options: object,
    callback: (error: unknown, data: unknown) => void,
  ): void;
}

/**
 * `GET /containers/{id}/logs` as a stream, with or without follow:
 * dockerode's `logs()` streams only with `follow=1` and otherwise buffers
 * the whole body, which for a stopped container can be its whole log.
 */
function openLogStream(
  container: Dockerode.Container,
  query: Record<string, boolean | string>,
  signal: AbortSignal,
): Promise<NodeJS.ReadableStream> {
  const modem = container.modem as Modem;
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path: `/containers/${container.id}/logs?`,
        method: 'GET',
        abortSignal: signal,
        isStream: true,
        statusCodes: {
          200: true,
          404: 'no such container',
          500: 'server error',
        },
        options: query,
      },
      (error, data) => {
        if (error) reject(error);
        else resolve(data as NodeJS.ReadableStream);
      },
    );
  });
}

/**
 * One `GET /containers/{id}/logs` request, with or without `follow=1`:
 * reads until the engine ends it or the monitor closes it. Always releases
 * the socket before `run()` settles.
 */
export class LogStreamSession {
  private readonly abort = new AbortController();
  private stream:
    (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
  private readonly assembler: ContainerLineAssembler;
  private closeReason: StreamCloseReason | undefined;
  private waiting = false;
  private systemError = false;
  /** True while waiting for the intake to accept more (not stale). */
  backpressured = false;
  /** Monotonic-ish ms of the last byte received (or of the open). */
  lastDataAtMs: number;
  readonly openedAtMs: number;

  private readonly options: LogStreamSessionOptions;

  constructor(options: LogStreamSessionOptions) {
    this.options = options;
    this.openedAtMs = options.now();
    this.lastDataAtMs = this.openedAtMs;
    this.assembler = new ContainerLineAssembler({
      tty: options.tty,
      maxLineBytes: options.maxLineBytes,
      resumeFrom: options.resumeFrom,
      onLine: (line) => {
        if (!options.deliver(line)) this.waiting = true;
      },
      onBoundaryDuplicate: options.onBoundaryDuplicate,
      onResumeMismatch: ({ reason }) => options.onResumeMismatch(reason),
    });
  }

  /** Where the next stream must resume. */
  get cursor(): ContainerCursor {
    return this.assembler.cursor;
  }

  /** True while half of a split line has been read. */
  get hasPartial(): boolean {
    return this.assembler.hasPartial;
  }

  /**
   * True until the entries replayed at the resume point were skipped:
   * closing before that would make no progress.
   */
  get isReplaying(): boolean {
    return this.assembler.isReplaying;
  }

  /** Why the monitor closed it, if it did. */
  get closedBecause(): StreamCloseReason | undefined {
    return this.closeReason;
  }

  /** Close the stream and its socket; `run()` then settles as `closed`. */
  close(reason: StreamCloseReason): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.abort.abort();
    this.stream?.destroy?.();
  }

  /**
   * True when the engine reported an error inside the stream (`Error
   * grabbing logs: …`, e.g. its log file deleted by a removal): its end
   * proves nothing either.
   */
  get failedInBand(): boolean {
    return this.systemError;
  }

  /** True when it follows new output (the end proves nothing). */
  get follows(): boolean {
    return this.options.follow;
  }

  /** Emit split lines still waiting for their end (container stopped). */
  flushPartials(): void {
    this.assembler.flushPartials();
  }

  async run(): Promise<StreamOutcome> {
    const from = this.options.resumeFrom;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await openLogStream(
        this.options.container,
        {
          follow: this.options.follow,
          stdout: true,
          stderr: true,
          timestamps: true,
          ...(from.timestampNs === ''
            ? {}
            : { since: toDockerSince(from.timestampNs) }),
        },
        this.abort.signal,
      );
    } catch (error) {
      if (this.closeReason !== undefined) {
        return { kind: 'closed', reason: this.closeReason };
      }
      return { kind: 'open_failed', error };
    }
    this.stream = stream as typeof this.stream;
    this.options.onOpened?.();
    if (this.closeReason !== undefined) {
      this.stream?.destroy?.();
      return { kind: 'closed', reason: this.closeReason };
    }
    const parser = new DockerLogParser(
      this.options.tty,
      (entry) => this.assembler.push(entry),
      (message) => {
        this.systemError = true;
        this.options.onSystemError(message);
      },
    );
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        this.lastDataAtMs = this.options.now();
        parser.push(chunk);
        if (this.waiting) {
          this.waiting = false;
          this.backpressured = true;
          // Not reading pauses the socket: the engine stops sending.
          try {
            await this.options.intake.whenWritable({
              signal: this.abort.signal,
            });
          } finally {
            this.backpressured = false;
          }
          this.lastDataAtMs = this.options.now();
        }
      }
      if (this.closeReason !== undefined) {
        return { kind: 'closed', reason: this.closeReason };
      }
      parser.end();
      return { kind: 'eof' };
    } catch (error) {
      if (this.closeReason !== undefined) {
        return { kind: 'closed', reason: this.closeReason };
      }
      if (LcError.isInstance(error, 'LC_ERR_SHUT_DOWN')) {
        return { kind: 'intake_closed', error };
      }
      return { kind: 'read_failed', error };
    } finally {
      this.stream?.destroy?.();
    }
  }
}
