import type { RawLine } from '../../file/internal/line-stage.js';
import type {
  ContainerLineContext,
  HeldFragments,
  LineRead,
} from '../../internal/container-line-stage.js';
import { ContainerLineStage } from '../../internal/container-line-stage.js';
import { cutToBytes } from '../../internal/utf8-cut.js';
import type { DockerJsonFields } from '../docker-json-line.js';
import { DockerJsonLineParser } from '../docker-json-line.js';

/**
 * Where a container's log resumes when it was read through the engine API
 * before (switching from `api` to `files`): entries with a time before
 * `timestampMs`/`timestampNanos` were read, and so were the first `lines`
 * entries at or after it. Shared by the container's files (a rotation may
 * fall inside the window), consumed as entries are skipped.
 */
export interface ApiResumePoint {
  readonly timestampMs: number;
  readonly timestampNanos: number;
  /** Entries at or after the time still to skip. */
  lines: number;
  /** True once an entry past the resume point was read: nothing more is skipped. */
  passed: boolean;
}

/** What a {@link JsonFileStage} needs from its source. */
export interface JsonFileStageContext extends Omit<
  ContainerLineContext,
  'delivered'
> {
  /** False while the container is excluded by the filters: its lines are read and dropped. */
  readonly captured: () => boolean;
  /** The API mode's resume point, when the container was read through the API before. */
  readonly apiResume?: () => ApiResumePoint | undefined;
}

/**
 * Decodes Docker json-file lines of one container log file
 * (`{"log","stream","time"}`): the record's time is the entry's (with
 * nanoseconds), its labels carry `stream`, and the partial entries Docker
 * writes for a line longer than 16 KiB (a `log` without newline) are joined
 * per stream with the entry that ends the line (see `ContainerLineStage`).
 * Entries the engine API delivered before (`apiResume`) are skipped.
 */
export class JsonFileStage extends ContainerLineStage<
  DockerJsonFields,
  string
> {
  private readonly captured: () => boolean;
  private readonly apiResume: (() => ApiResumePoint | undefined) | undefined;
  private readonly parser = new DockerJsonLineParser();

  constructor(ctx: JsonFileStageContext) {
    super(
      { ...ctx, delivered: ctx.captured },
      {
        text: '',
        partial: false,
        stream: 0,
        timestampMs: 0,
        timestampNanos: 0,
      },
    );
    this.captured = ctx.captured;
    this.apiResume = ctx.apiResume;
  }

  protected read(line: RawLine, f: DockerJsonFields): LineRead {
    if (!this.captured()) {
      // Excluded by the filters: nothing of it is delivered, so nothing is
      // decoded (a node's other containers cost a newline search per line).
      if (this.heldFrom !== undefined) this.reset();
      return 'dropped';
    }
    // A line longer than the splitter keeps is not parseable.
    if (
      line.truncated ||
      !this.parser.parseInto(line.buf, line.start, line.end, f)
    )
      return 'malformed';
    return this.readBefore(f) ? 'dropped' : 'entry';
  }

  /** True when the entry was read through the API already (see `ApiResumePoint`). */
  private readBefore(f: DockerJsonFields): boolean {
    const r = this.apiResume?.();
    if (r === undefined || r.passed) return false;
    const before =
      f.timestampMs < r.timestampMs ||
      (f.timestampMs === r.timestampMs && f.timestampNanos < r.timestampNanos);
    if (before) return true;
    if (r.lines > 0) {
      r.lines--;
      return true;
    }
    r.passed = true;
    return false;
  }

  protected message(_line: RawLine, f: DockerJsonFields): string | undefined {
    const text = f.text;
    const max = this.ctx.maxLineBytes;
    // Bytes ≥ characters: only a long text can be over.
    if (text.length * 3 <= max || Buffer.byteLength(text) <= max) {
      this.cut = false;
      return text;
    }
    this.cut = true;
    return this.keepLong() ? cutToBytes(text, max) : undefined;
  }

  protected keep(
    s: HeldFragments<string>,
    _line: RawLine,
    f: DockerJsonFields,
  ): void {
    const room = this.ctx.maxLineBytes - s.kept;
    const bytes = Buffer.byteLength(f.text);
    if (bytes > room) {
      s.over = true;
      if (room > 0) {
        const part = cutToBytes(f.text, room);
        s.parts.push(part);
        s.kept += Buffer.byteLength(part);
      }
      return;
    }
    s.parts.push(f.text);
    s.kept += bytes;
  }

  protected heldText(s: HeldFragments<string>): string {
    return s.parts.join('');
  }
}
