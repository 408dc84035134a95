import type {
  Clock,
  ContainerCursor,
  MetricsRegistry,
  Timestamp,
} from '@lc/core';
import type { MultilineOptions } from '../../multiline/multiline-options.js';
import type { MultilineStreams } from '../../multiline/multiline-streams.js';
import { createMultilineStreams } from '../../multiline/multiline-streams.js';
import type { ContainerStreamName } from '../docker-log-parser.js';
import type { AssembledLine } from '../line-assembler.js';

/** Where a container's assembled lines go: straight to the intake, or through multiline joining. */
export interface ContainerLineSink {
  /** Hand over the next line; `false` asks the stream to pause. */
  deliver(line: AssembledLine): boolean;
  /** Emit pending multiline records (the container stopped or was destroyed). */
  flush(): void;
  /** Drop pending multiline records and stop the timer (shutdown: read again from the position). */
  close(): void;
}

/** Options of {@link createContainerLineSink}. */
export interface ContainerLineSinkOptions {
  readonly multiline: MultilineOptions | undefined;
  /** Where the container's first stream resumes. */
  readonly initialCursor: ContainerCursor;
  /** Hand one record to the intake; the intake's answer. */
  readonly dispatch: (
    stream: ContainerStreamName,
    text: string,
    timestamp: Timestamp,
    cursor: ContainerCursor,
  ) => boolean;
  /** True while the stream is paused by backpressure (timeouts wait). */
  readonly isBehind: () => boolean;
  readonly clock: Clock;
  readonly registry: MetricsRegistry;
  readonly onError: (error: unknown) => void;
}

interface JoinLine {
  readonly text: string;
  readonly cursor: ContainerCursor;
  readonly timestamp: Timestamp;
}

/**
 * The line path of one container. With `multiline`, stdout and stderr are
 * joined separately; a joined record has its first line's timestamp and a
 * cursor that never passes a line still pending on either stream, so a
 * crash re-reads a half-read record whole.
 */
export function createContainerLineSink(
  o: ContainerLineSinkOptions,
): ContainerLineSink {
  if (o.multiline === undefined) {
    return {
      deliver: (line) =>
        o.dispatch(line.stream, line.line, line.timestamp, line.cursor),
      flush: () => undefined,
      close: () => undefined,
    };
  }
  const streams: MultilineStreams<ContainerCursor, JoinLine> =
    createMultilineStreams<ContainerCursor, JoinLine>({
      multiline: o.multiline,
      initialCursor: o.initialCursor,
      clock: o.clock,
      registry: o.registry,
      source: 'container',
      isBehind: o.isBehind,
      onError: o.onError,
      onRecord: (r) =>
        o.dispatch(
          r.stream as ContainerStreamName,
          r.text,
          r.first.timestamp,
          r.cursor,
        ),
    });
  return {
    deliver: (line) =>
      streams.push(line.stream, {
        text: line.line,
        cursor: line.cursor,
        timestamp: line.timestamp,
      }),
    flush: () => streams.flush(),
    close: () => streams.close(),
  };
}
