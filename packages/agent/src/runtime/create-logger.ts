import { writeSync } from 'node:fs';
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { redactSecrets } from '../config/redact-secrets.js';
import type { SecretScrubber } from '../config/secret-scrubber.js';
import { describeError } from '../internal/describe-error.js';

/** How the agent writes its own log lines. */
export type AgentLogFormat = 'auto' | 'json' | 'pretty';

/** Options of {@link createAgentLogger}. */
export interface AgentLoggerOptions {
  /**
   * Known secret values (the config's): replaced by `[REDACTED]` wherever
   * they appear in a line (messages, errors, fields). Values under keys
   * naming a secret (`password`, `token`, `authorization`, header maps) and
   * URL credentials are redacted whatever the scrubber knows.
   */
  readonly secrets?: SecretScrubber;
  /** Where lines go. @default stderr (fd 2), written synchronously */
  readonly destination?: DestinationStream;
}

/**
 * The agent's logger: pino on stderr (stdout is left to the stdout sink and
 * to command output). `json` writes pino's JSON lines; `pretty` writes one
 * human line per entry (`time LEVEL message key=value …`, coloured when
 * stderr is a terminal); `auto` (default) is `pretty` when stderr is a TTY
 * and `json` otherwise, so shipped logs stay machine-readable. No line
 * holds a secret (see {@link AgentLoggerOptions.secrets}), and an error's
 * message names each cause once.
 */
export function createAgentLogger(
  level: string,
  name: string,
  format: AgentLogFormat = 'auto',
  options: AgentLoggerOptions = {},
): PinoLogger {
  const tty = process.stderr.isTTY === true;
  const pretty = format === 'pretty' || (format === 'auto' && tty);
  const { secrets } = options;
  return pino(
    {
      level,
      base: { name, pid: process.pid },
      serializers: { err: serializeError },
      formatters: {
        log: (entry) => redactSecrets(entry) as Record<string, unknown>,
      },
      ...(secrets === undefined
        ? {}
        : { hooks: { streamWrite: (line: string) => secrets.scrub(line) } }),
    },
    options.destination === undefined
      ? pretty
        ? createPrettyDestination(2, tty)
        : pino.destination({ fd: 2, sync: true })
      : pretty
        ? prettyTo(options.destination, tty)
        : options.destination,
  );
}

/**
 * pino's error serializer appends every cause's message to the error's,
 * which doubles errno text that the message already quotes; this one
 * names each cause once.
 */
function serializeError(error: unknown): unknown {
  const out = pino.stdSerializers.err(error as Error) as unknown;
  if (typeof out !== 'object' || out === null) return out;
  return { ...out, message: describeError(error, { code: false }) };
}

const LEVELS: Record<number, [label: string, colour: string]> = {
  10: ['TRACE', '90'],
  20: ['DEBUG', '36'],
  30: ['INFO ', '32'],
  40: ['WARN ', '33'],
  50: ['ERROR', '31'],
  60: ['FATAL', '35'],
};
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/**
 * A synchronous pino destination that turns each JSON line into a human
 * one. Exported for tests; a line that is not JSON is written unchanged.
 */
export function createPrettyDestination(
  fd: number,
  colour: boolean,
): DestinationStream {
  return {
    write(line: string): void {
      writeSync(fd, formatPrettyLine(line, colour));
    },
  };
}

function prettyTo(out: DestinationStream, colour: boolean): DestinationStream {
  return { write: (line: string) => out.write(formatPrettyLine(line, colour)) };
}

/** Format one pino JSON line for people (see {@link createAgentLogger}). */
export function formatPrettyLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const [label, code] = LEVELS[entry.level as number] ?? [
    String(entry.level),
    '0',
  ];
  const time =
    typeof entry.time === 'number'
      ? new Date(entry.time).toISOString().slice(11, 23)
      : '';
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (OMITTED.has(key) || value === undefined) continue;
    if (key === 'err' && typeof value === 'object' && value !== null) {
      const err = value as { message?: unknown; code?: unknown };
      fields.push(`err=${JSON.stringify(err.code ?? err.message ?? value)}`);
      continue;
    }
    fields.push(
      `${key}=${typeof value === 'string' && !/[\s"=]/.test(value) ? value : JSON.stringify(value)}`,
    );
  }
  const levelText = colour ? `\x1b[${code}m${label}\x1b[0m` : label;
  const rest = fields.length > 0 ? `  ${fields.join(' ')}` : '';
  return `${time} ${levelText} ${String(entry.msg ?? '')}${rest}\n`;
}
