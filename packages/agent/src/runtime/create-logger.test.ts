import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { formatPrettyLine } from './create-logger.js';

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
