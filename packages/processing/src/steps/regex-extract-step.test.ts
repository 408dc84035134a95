import { describe, expect, it } from 'vitest';
import { processor, record } from '../../test/records.js';

describe('regexExtractStep', () => {
  describe('create', () => {
    it('should extract named groups with regex_extract', () => {
      const p = processor([
        {
          type: 'regex_extract',
          pattern: '^(?<method>[A-Z]+) (?<path>\\S+)',
          metadata: ['path'],
          labels: ['method'],
        },
      ]);
      const out = p.process(record('GET /x 200'));
      expect(out?.labels).toEqual({ method: 'GET' });
      expect(out?.metadata).toEqual({ path: '/x' });
    });
  });
});
