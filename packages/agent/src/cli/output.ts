import type { SecretScrubber } from '../config/secret-scrubber.js';
import { EXIT_CODES } from '../runtime/exit-codes.js';

/** One problem a command reports: where (a config key, a path), if known, and what. */
export interface CliIssue {
  /** Config path (`sinks.file[0].directory`), when the problem has one. */
  readonly path?: string;
  readonly message: string;
}

/** The `--json` shape of every failure: `{ "ok": false, "errors": [...] }`. */
export interface CliFailure {
  readonly ok: false;
  readonly errors: readonly CliIssue[];
  readonly warnings?: readonly CliIssue[];
}

let scrubber: SecretScrubber | undefined;

/**
 * Scrub the secrets of the config a command loaded from everything it
 * prints from now on (DLQ reasons may quote a sink's URL, say).
 */
export function scrubOutputWith(secrets: SecretScrubber): void {
  scrubber = secrets;
}

const clean = (text: string): string => scrubber?.scrub(text) ?? text;

/** Write a line to stdout (command output). */
export function printLine(text: string): void {
  process.stdout.write(`${clean(text)}\n`);
}

/** Write `value` as indented JSON to stdout. */
export function printJson(value: unknown): void {
  printLine(JSON.stringify(value, null, 2));
}

/** Write a diagnostic line to stderr, prefixed `lc-agent: `. */
export function printError(text: string): void {
  process.stderr.write(`lc-agent: ${clean(text)}\n`);
}

/** `path: message`, or the message alone. */
export function formatIssue(issue: CliIssue): string {
  return issue.path === undefined || issue.path === ''
    ? issue.message
    : `${issue.path}: ${issue.message}`;
}

/**
 * Report a failure and set the exit code. With `json`, stdout gets
 * `{ ok: false, errors }` (so `--json` output is JSON on every outcome);
 * otherwise stderr gets `lc-agent: heading:` and one indented line per
 * issue (or one line for a single issue without a heading).
 */
export function reportFailure(
  json: boolean | undefined,
  exitCode: number,
  errors: readonly CliIssue[],
  heading?: string,
): void {
  process.exitCode = exitCode;
  if (json === true) {
    const body: CliFailure = { ok: false, errors: cliIssues(errors) };
    printJson(body);
    return;
  }
  if (heading === undefined && errors.length === 1)
    printError(formatIssue(errors[0] as CliIssue));
  else
    printError(
      `${heading ?? 'failed'}:\n${errors.map((e) => `  ${formatIssue(e)}`).join('\n')}`,
    );
}

/** Print warnings on stderr (never stdout: it may be piped into a parser). */
export function printWarnings(warnings: readonly CliIssue[]): void {
  for (const w of warnings) printError(`warning: ${formatIssue(w)}`);
}

/** Issues for JSON output: no `path` key when there is no path. */
export function cliIssues(issues: readonly CliIssue[]): CliIssue[] {
  return issues.map((i) =>
    i.path === undefined || i.path === ''
      ? { message: i.message }
      : { path: i.path, message: i.message },
  );
}

/**
 * A closed stdout (`lc-agent schema | head -1`) ends the command quietly
 * with exit 0, as Unix tools do, instead of an EPIPE stack. Not for `run`:
 * there stdout may be a sink, whose errors are its own.
 */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT_CODES.ok);
    printError(`cannot write to stdout: ${error.message}`);
    process.exit(EXIT_CODES.failure);
  });
}
