/** What an entry looks like to the rejection matcher. */
export interface RejectionCandidate {
  /** Stream selector as sent. */
  readonly labels: string;
  readonly labelCount: number;
  readonly timestampMs: number;
  readonly lineBytes: number;
}

/** The class of a Loki 400, read from its text. */
export type RejectionKind =
  | 'too-old'
  | 'too-far-behind'
  | 'out-of-order'
  | 'too-new'
  | 'line-too-long'
  | 'too-many-labels'
  | 'no-labels'
  | 'unknown';

/** A 400 body turned into a predicate over the entries of the request. */
export interface Rejection {
  readonly kind: RejectionKind;
  /** True for entries the error certainly (or possibly) applies to. */
  matches(entry: RejectionCandidate): boolean;
}

/** Rejections handled by the `outOfOrder` policy rather than failed. */
export const OUT_OF_ORDER_KINDS: ReadonlySet<RejectionKind> = new Set([
  'too-old',
  'too-far-behind',
  'out-of-order',
]);

const RFC3339 = String.raw`(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))`;

function parseSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Read Loki's 400 text. Loki reports only the first error of a push, so
 * each rule generalises to every entry that certainly breaks the same
 * limit (e.g. all entries older than the "oldest acceptable timestamp").
 * When the match is uncertain the entry is included: a rejected-but-valid
 * entry costs a harmless DLQ copy, a wrongly "delivered" one is lost.
 */
export function parseRejection(body: string): Rejection {
  const text = body.trim();
  const stream = /for stream:? '?(\{[^']*\})'?/.exec(text)?.[1];
  const inStream = (e: RejectionCandidate): boolean =>
    stream === undefined || e.labels === stream;

  const oldest = parseSeconds(
    new RegExp(`oldest acceptable timestamp is: ${RFC3339}`).exec(text)?.[1],
  );
  if (/too far behind/.test(text) && oldest !== undefined) {
    return {
      kind: 'too-far-behind',
      matches: (e) => inStream(e) && e.timestampMs < oldest,
    };
  }
  if (/timestamp too old/.test(text) && oldest !== undefined) {
    // reject_old_samples is a tenant-wide limit: it applies to every stream.
    return { kind: 'too-old', matches: (e) => e.timestampMs < oldest };
  }
  const tooNew = parseSeconds(
    new RegExp(`timestamp too new: ${RFC3339}`).exec(text)?.[1],
  );
  if (tooNew !== undefined) {
    // Text has whole seconds: certainly too new from the next second on,
    // possibly within the named stream's reported second.
    return {
      kind: 'too-new',
      matches: (e) =>
        e.timestampMs >= tooNew + 1000 ||
        (inStream(e) && e.timestampMs >= tooNew),
    };
  }
  const maxSize = /Max entry size '(\d+)' bytes exceeded/.exec(text)?.[1];
  if (maxSize !== undefined) {
    const limit = Number(maxSize);
    return { kind: 'line-too-long', matches: (e) => e.lineBytes > limit };
  }
  const labelLimit = /has \d+ label names; limit (\d+)/.exec(text)?.[1];
  if (labelLimit !== undefined) {
    const limit = Number(labelLimit);
    return { kind: 'too-many-labels', matches: (e) => e.labelCount > limit };
  }
  if (/at least one label pair is required/.test(text)) {
    return { kind: 'no-labels', matches: (e) => e.labelCount === 0 };
  }
  if (/out of order/.test(text) && stream !== undefined) {
    const at = parseSeconds(
      /entry with timestamp ([0-9T:.+\-Z ]+?) ignored/
        .exec(text)?.[1]
        ?.replace(' +0000 UTC', 'Z'),
    );
    return {
      kind: 'out-of-order',
      matches: (e) =>
        inStream(e) &&
        (at === undefined ||
          (e.timestampMs >= at && e.timestampMs < at + 1000)),
    };
  }
  return { kind: 'unknown', matches: () => false };
}
