import { describe, expect, it } from 'vitest';
import { processor, record } from '../../test/records.js';

describe('logfmtParseStep', () => {
  describe('create', () => {
    it('should parse logfmt and extract the level from it', () => {
      const p = processor([
        { type: 'logfmt_parse' },
        { type: 'level_extract' },
      ]);
      const out = p.process(record('ts=1 level=WARNING msg="disk full" ok'));
      expect(out?.labels).toEqual({ level: 'warn' });
    });

    it('should keep field names that are Object.prototype keys (names are data)', () => {
      const p = processor([
        {
          type: 'logfmt_parse',
          metadata: ['__proto__', 'constructor'],
        },
      ]);
      const out = p.process(record('__proto__=p constructor=c msg=x'));
      expect(Object.entries(out?.metadata ?? {})).toEqual([
        ['__proto__', 'p'],
        ['constructor', 'c'],
      ]);
    });
  });
});
