/** Per-line delivery accounting of one fault scenario. */
export interface Tally {
  /** Scenario name. */
  readonly scenario: string;
  /** Distinct numbered lines the driver wrote. */
  readonly written: number;
  /** Lines delivered exactly once. */
  readonly once: number;
  /** Extra copies delivered (a line delivered 3 times counts 2). */
  readonly duplicates: number;
  /** Lines delivered more than once. */
  readonly duplicatedLines: number;
  /** Lines never delivered. */
  readonly lost: number;
  /** Delivered lines the driver never wrote (corruption): must be 0. */
  readonly unexpected: number;
  /** Up to 10 lost lines, for the report. */
  readonly lostSample: readonly string[];
}

/**
 * Compares what was written with what arrived, line by line.
 *
 * @param written - every line the driver wrote (distinct)
 * @param delivered - every line the sink received, in any order, with repeats
 */
export function tally(
  scenario: string,
  written: readonly string[],
  delivered: Iterable<string>,
): Tally {
  const want = new Set(written);
  const got = new Map<string, number>();
  let unexpected = 0;
  for (const l of delivered) {
    if (!want.has(l)) {
      unexpected++;
      continue;
    }
    got.set(l, (got.get(l) ?? 0) + 1);
  }
  let once = 0;
  let duplicates = 0;
  let duplicatedLines = 0;
  const lostSample: string[] = [];
  let lost = 0;
  for (const l of want) {
    const n = got.get(l) ?? 0;
    if (n === 0) {
      lost++;
      if (lostSample.length < 10) lostSample.push(l);
    } else if (n === 1) once++;
    else {
      duplicatedLines++;
      duplicates += n - 1;
    }
  }
  return {
    scenario,
    written: want.size,
    once,
    duplicates,
    duplicatedLines,
    lost,
    unexpected,
    lostSample,
  };
}

/** A fixed-width table of tallies (scenario, written, once, duplicates, lost). */
export function formatTallies(rows: readonly Tally[]): string {
  const head = [
    'scenario',
    'written',
    'once',
    'duplicates',
    'lost',
    'unexpected',
  ];
  const cells = rows.map((r) => [
    r.scenario,
    String(r.written),
    String(r.once),
    `${r.duplicates} (${r.duplicatedLines} lines)`,
    String(r.lost),
    String(r.unexpected),
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...cells.map((c) => (c[i] as string).length)),
  );
  const line = (c: readonly string[]) =>
    `| ${c.map((v, i) => v.padEnd(widths[i] as number)).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(line),
  ].join('\n');
}
