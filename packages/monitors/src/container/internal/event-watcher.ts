import type { Clock } from '@lc/core';
import type Dockerode from 'dockerode';

/** A container event from the Docker events stream. */
export interface ContainerEvent {
  /** start, die, destroy, rename, pause, unpause… */
  readonly action: string;
  /** Full container id. */
  readonly id: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Epoch nanoseconds as a decimal string. */
  readonly timeNano: string;
}

/** Options of {@link EventWatcher}. */
export interface EventWatcherOptions {
  readonly docker: Dockerode;
  readonly clock: Clock;
  readonly baseMs: number;
  readonly maxMs: number;
  /**
   * Called after each (re)connection, with the epoch second from which
   * events may have been missed (undefined on the first connection).
   * Re-lists containers so nothing started meanwhile is missed.
   */
  readonly onConnect: (missedSinceSec: number | undefined) => Promise<void>;
  readonly onEvent: (event: ContainerEvent) => void;
  readonly onReconnect: () => void;
  readonly onError: (error: unknown) => void;
}

export const WATCHED_ACTIONS = [
  'create',
  'start',
  'die',
  'destroy',
  'rename',
  'pause',
  'unpause',
] as const;

/**
 * Follows `GET /events` for containers, reconnecting with exponential
 * backoff and full jitter when the stream ends or fails (dockerd restart,
 * socket dropped).
 */
export class EventWatcher {
  private readonly abort = new AbortController();
  private stream: NodeJS.ReadableStream | undefined;
  private loop: Promise<void> | undefined;
  private lastEventSec: number | undefined;
  private disconnectedAtSec: number | undefined;

  private readonly options: EventWatcherOptions;

  constructor(options: EventWatcherOptions) {
    this.options = options;
  }

  /**
   * Connect and list once. Rejects when the first attempt fails; later
   * failures are retried in the background.
   */
  async start(): Promise<void> {
    const stream = await this.connect();
    await this.options.onConnect(undefined);
    this.loop = this.run(stream);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    (this.stream as { destroy?: () => void } | undefined)?.destroy?.();
    await this.loop;
  }

  private async connect(): Promise<NodeJS.ReadableStream> {
    const nowSec = Math.floor(this.options.clock.now() / 1000);
    const since = this.lastEventSec ?? this.disconnectedAtSec;
    const stream = await this.options.docker.getEvents({
      filters: { type: ['container'], event: [...WATCHED_ACTIONS] },
      ...(since === undefined ? {} : { since: Math.min(since, nowSec) }),
      abortSignal: this.abort.signal,
    } as Parameters<Dockerode['getEvents']>[0]);
    this.stream = stream;
    return stream;
  }

  private async run(first: NodeJS.ReadableStream): Promise<void> {
    let stream: NodeJS.ReadableStream | undefined = first;
    let attempt = 0;
    while (!this.abort.signal.aborted) {
      if (stream !== undefined) {
        try {
          await this.consume(stream);
        } catch (error) {
          if (this.abort.signal.aborted) return;
          this.options.onError(error);
        }
        stream = undefined;
        this.disconnectedAtSec ??= Math.floor(this.options.clock.now() / 1000);
      }
      if (this.abort.signal.aborted) return;
      const delay = Math.min(
        this.options.maxMs,
        this.options.baseMs * 2 ** Math.min(attempt, 20),
      );
      attempt++;
      await this.sleep(Math.max(1, Math.round(Math.random() * delay)));
      if (this.abort.signal.aborted) return;
      this.options.onReconnect();
      try {
        const missed = this.disconnectedAtSec;
        stream = await this.connect();
        await this.options.onConnect(missed);
        this.disconnectedAtSec = undefined;
        attempt = 0;
      } catch (error) {
        (stream as { destroy?: () => void } | undefined)?.destroy?.();
        stream = undefined;
        if (!this.abort.signal.aborted) this.options.onError(error);
      }
    }
  }

  private async consume(stream: NodeJS.ReadableStream): Promise<void> {
    let rest = '';
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      let nl: number;
      while ((nl = rest.indexOf('\n')) !== -1) {
        const text = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (text !== '') this.handle(text);
      }
    }
  }

  private handle(text: string): void {
    let raw: {
      Type?: string;
      Action?: string;
      status?: string;
      id?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
      time?: number;
      timeNano?: number | string;
    };
    try {
      raw = JSON.parse(text) as typeof raw;
    } catch (error) {
      this.options.onError(error);
      return;
    }
    const id = raw.Actor?.ID ?? raw.id;
    const action = raw.Action ?? raw.status;
    if (id === undefined || action === undefined) return;
    if (typeof raw.time === 'number') this.lastEventSec = raw.time;
    this.options.onEvent({
      action,
      id,
      attributes: raw.Actor?.Attributes ?? {},
      timeNano: String(raw.timeNano ?? ''),
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const clock = this.options.clock;
      const signal = this.abort.signal;
      const onAbort = (): void => {
        clock.clearTimeout(timer);
        resolve();
      };
      const timer = clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      timer.unref();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
