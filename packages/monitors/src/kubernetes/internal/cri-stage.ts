import { decodeUtf8 } from '../../file/internal/line-splitter.js';
import type { RawLine } from '../../file/internal/line-stage.js';
import type {
  ContainerLineContext,
  HeldFragments,
  LineRead,
} from '../../internal/container-line-stage.js';
import { ContainerLineStage } from '../../internal/container-line-stage.js';
import { charStart } from '../../internal/utf8-cut.js';
import type { CriFields } from '../cri-parser.js';
import { CriLineParser } from '../cri-parser.js';
import type { KubernetesMetrics } from './kubernetes-metrics.js';
import type { PodLabels } from './pod-labels.js';

/** What a {@link CriStage} needs from its source. */
export interface CriStageContext extends Pick<
  ContainerLineContext,
  'maxLineBytes' | 'policy' | 'counters' | 'malformed' | 'multiline'
> {
  readonly path: string;
  readonly metrics: Pick<
    KubernetesMetrics,
    'joinedLines' | 'unterminatedLines' | 'excludedLines'
  >;
  /** The file is excluded (its pod opted out): every line is dropped, counted. */
  readonly excluded?: () => boolean;
  /** The file's label sets; read for every record (they are set once the file is prepared). */
  readonly labels: () => PodLabels;
}

/**
 * Decodes CRI lines (`<time> <stream> <P|F> <message>`) of one pod log
 * file: the record's time is the line's (with nanoseconds), its labels
 * carry `stream`, and `P` fragments are joined with the `F` that ends
 * them, per stream, as bytes (a runtime may split a line inside a UTF-8
 * character; see `ContainerLineStage`).
 */
export class CriStage extends ContainerLineStage<CriFields, Buffer> {
  private readonly excluded: (() => boolean) | undefined;
  private readonly metrics: CriStageContext['metrics'];
  private readonly parser = new CriLineParser();

  constructor(ctx: CriStageContext) {
    super(
      {
        ...ctx,
        onJoined: () => ctx.metrics.joinedLines.inc(),
        onUnterminated: () => ctx.metrics.unterminatedLines.inc(),
      },
      {
        timestampMs: 0,
        timestampNanos: 0,
        stream: 0,
        partial: false,
        prefixLength: 0,
      },
    );
    this.excluded = ctx.excluded;
    this.metrics = ctx.metrics;
  }

  protected read(line: RawLine, f: CriFields): LineRead {
    if (this.excluded?.() === true) {
      this.metrics.excludedLines.inc();
      return 'dropped';
    }
    return this.parser.parseInto(line.buf, line.start, line.end, f)
      ? 'entry'
      : 'malformed';
  }

  protected message(line: RawLine, f: CriFields): string | undefined {
    const bytes = line.bytes - f.prefixLength;
    this.cut = line.truncated || bytes > this.ctx.maxLineBytes;
    return this.decodeCapped(
      line.buf,
      line.start + f.prefixLength,
      line.end,
      bytes,
      line.truncated,
    );
  }

  /** Keep a fragment's bytes, up to the limit in all (cut at a character start). */
  protected keep(s: HeldFragments<Buffer>, line: RawLine, f: CriFields): void {
    const { buf, end: to } = line;
    const from = line.start + f.prefixLength;
    const room = this.ctx.maxLineBytes - s.kept;
    if (line.truncated || line.bytes - f.prefixLength > room) s.over = true;
    const take = Math.min(to - from, Math.max(0, room));
    if (take <= 0) return;
    const end = take < to - from ? charStart(buf, from, from + take) : to;
    s.parts.push(Buffer.from(buf.subarray(from, end)));
    s.kept += end - from;
  }

  protected heldText(s: HeldFragments<Buffer>): string {
    const bytes =
      s.parts.length === 1
        ? (s.parts[0] as Buffer)
        : Buffer.concat(s.parts, s.kept);
    return decodeUtf8(bytes, 0, bytes.length, this.ctx.counters);
  }
}
