import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACTED } from '../config/redact-secrets.js';
import { createSecretScrubber } from '../config/secret-scrubber.js';
import { createAgentLogger, formatPrettyLine } from './create-logger.js';

function capture(format: (line: string) => string) {
  const out: string[] = [];
  const logger = pino(
    { level: 'debug', base: { name: 'lc-agent', pid: 1 } },
    { write: (line: string) => void out.push(format(line)) },
  );
  return { logger, out };
}

describe('formatPrettyLine', () => {
  it('should render time, level, message and fields on one line', () => {
    const { logger, out } = capture((l) => formatPrettyLine(l, false));
    logger.warn(
      { path: '/var/log/app.log', offset: 42, note: 'two words' },
      'file truncated',
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(
      /^\d{2}:\d{2}:\d{2}\.\d{3} WARN {2}file truncated {2}path=\/var\/log\/app\.log offset=42 note="two words"\n$/,
    );
  });

  it('should show an error by its code and colour the level on a terminal', () => {
    const { logger, out } = capture((l) => formatPrettyLine(l, true));
    const err = Object.assign(new Error('boom'), { code: 'LC_ERR_SINK' });
    logger.error({ err }, 'delivery failed');
    expect(out[0]).toContain('\x1b[31mERROR\x1b[0m delivery failed');
    expect(out[0]).toContain('err="LC_ERR_SINK"');
    expect(out[0]).not.toContain('pid=');
  });

  it('should pass a line that is not JSON through unchanged', () => {
    expect(formatPrettyLine('plain text', false)).toBe('plain text\n');
  });
});

describe('createAgentLogger', () => {
  /** The lines the agent's logger writes. */
  function linesOf(
    format: 'json' | 'pretty',
    log: (logger: ReturnType<typeof createAgentLogger>) => void,
  ): string {
    const written: string[] = [];
    const secrets = createSecretScrubber(['hunter2-secret', 'dG9rZW4tYjY0']);
    log(
      createAgentLogger('debug', 'lc-agent', format, {
        secrets,
        destination: { write: (line: string) => void written.push(line) },
      }),
    );
    return written.join('');
  }

  it('should keep known secrets and secret-named keys out of every line', () => {
    for (const format of ['json', 'pretty'] as const) {
      const text = linesOf(format, (logger) => {
        logger.warn(
          {
            sink: 'loki',
            password: 'other-pass',
            nested: { headers: { Authorization: 'Basic dG9rZW4tYjY0' } },
            url: 'http://bob:url-pass@127.0.0.1:1/x',
            err: new Error('push to loki failed: token hunter2-secret refused'),
          },
          'sink failing with hunter2-secret',
        );
      });
      expect(text, format).not.toMatch(
        /hunter2-secret|other-pass|dG9rZW4tYjY0|url-pass/,
      );
      expect(text, format).toContain(REDACTED);
      expect(text, format).toContain('sink failing with');
    }
  });

  it('should name a quoted cause once in an error message', () => {
    const cause = Object.assign(
      new Error("EACCES: permission denied, open '/d/x'"),
      {
        code: 'EACCES',
      },
    );
    const text = linesOf('json', (logger) =>
      logger.error(
        { err: new Error(`cannot open /d/x: ${cause.message}`, { cause }) },
        'failed',
      ),
    );
    const entry = JSON.parse(text) as { err: { message: string } };
    expect(entry.err.message).toBe(
      "cannot open /d/x: EACCES: permission denied, open '/d/x'",
    );
  });
});
