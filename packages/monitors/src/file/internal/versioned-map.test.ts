import { describe, expect, it } from 'vitest';
import { VersionedMap } from './versioned-map.js';

describe('VersionedMap', () => {
  describe('version', () => {
    it('should move on every set, delete of a present key and clear, and on nothing else', () => {
      const m = new VersionedMap<string, string>();
      const v0 = m.version;
      m.set('a', '1');
      const v1 = m.version;
      expect(v1).toBeGreaterThan(v0);
      m.get('a');
      m.has('a');
      expect(m.delete('missing')).toBe(false);
      expect(m.version).toBe(v1);
      m.set('a', '2');
      const v2 = m.version;
      expect(v2).toBeGreaterThan(v1);
      expect(m.delete('a')).toBe(true);
      const v3 = m.version;
      expect(v3).toBeGreaterThan(v2);
      m.clear();
      expect(m.version).toBeGreaterThan(v3);
    });
  });
});
