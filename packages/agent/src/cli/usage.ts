import { CommanderError, InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { describeError } from '../internal/describe-error.js';
import { EXIT_CODES } from '../runtime/exit-codes.js';
import { reportFailure } from './output.js';

/**
 * Make `program` (and every command added to it afterwards) report usage
 * errors — unknown command or flag, missing or invalid argument — with
 * exit 2 instead of commander's 1, and, when `--json` is on the command
 * line, as `{ ok: false, errors }` on stdout instead of text and help.
 * Call before adding commands: commander copies these settings to them.
 */
export function configureUsage(
  program: Command,
  argv: readonly string[],
): void {
  const json = wantsJson(argv);
  program.exitOverride();
  if (json)
    program.configureOutput({
      // The error goes out as JSON from runProgram; no text, no help.
      outputError: () => undefined,
      writeErr: () => undefined,
    });
  else program.showHelpAfterError('(run with --help for usage)');
}

/** Whether the command line asks for JSON output. */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.slice(2).includes('--json');
}

/**
 * Parse and run. Usage errors exit 2 (help and version 0); an error a
 * command throws is one line on stderr (or JSON) with exit 1, never a stack.
 */
export async function runProgram(
  program: Command,
  argv: readonly string[],
): Promise<void> {
  const json = wantsJson(argv);
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) {
        process.exitCode = EXIT_CODES.ok;
        return;
      }
      // Commander printed the error (and help) unless JSON was asked for.
      if (json)
        reportFailure(true, EXIT_CODES.config, [
          { message: error.message.replace(/^error: /, '') },
        ]);
      process.exitCode = EXIT_CODES.config;
      return;
    }
    reportFailure(json, EXIT_CODES.failure, [
      { message: describeError(error) },
    ]);
  }
}

/** A `--limit`-style option value: an integer of at least `min`. */
export function integerOption(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer >= ${min}.`);
    return n;
  };
}
