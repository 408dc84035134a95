import { describe, expect, it } from 'vitest';
import { processor, record } from '../../test/records.js';

describe('levelExtractStep', () => {
  describe('create', () => {
    it('should fall back to a regex over the line for the level', () => {
      const p = processor([{ type: 'level_extract' }]);
      expect(p.process(record('[ERROR] boom'))?.labels).toEqual({
        level: 'error',
      });
    });
  });
});
