import { describe, expect, it } from 'vitest';
import { processor, record } from '../../test/records.js';

describe('dropStep', () => {
  describe('create', () => {
    it('should drop by condition and count it', () => {
      const p = processor([
        { type: 'level_extract' },
        { type: 'drop', when: { level: ['debug'] } },
      ]);
      expect(p.process(record('DEBUG noise'))).toBeUndefined();
      expect(p.process(record('INFO ok'))).toBeDefined();
      expect(p.stats()).toEqual({
        processed: 2,
        dropped: 1,
        modified: 1,
        stepErrors: 0,
      });
    });
  });
});
