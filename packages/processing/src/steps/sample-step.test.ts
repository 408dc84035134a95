import { describe, expect, it } from 'vitest';
import { processor, record } from '../../test/records.js';

describe('sampleStep', () => {
  describe('create', () => {
    it('should decide per line, identically on a re-read', () => {
      const p = processor([{ type: 'sample', rate: 0.5 }]);
      const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
      const first = lines.map((l) => p.process(record(l)) !== undefined);
      const second = lines.map((l) => p.process(record(l)) !== undefined);
      expect(second).toEqual(first);
      const kept = first.filter(Boolean).length;
      expect(kept).toBeGreaterThan(800);
      expect(kept).toBeLessThan(1200);
    });
  });
});
