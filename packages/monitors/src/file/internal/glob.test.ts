import { describe, expect, it } from 'vitest';
import { compileGlob, expandBraces, matchesAny } from './glob.js';

describe('compileGlob', () => {
  describe('matches', () => {
    it('should match *, ?, [..], ** and {a,b} like a shell glob on absolute paths', () => {
      const g = compileGlob('/var/log/{app,web}/**/*.log');
      expect(g.map((x) => x.base)).toEqual(['/var/log/app', '/var/log/web']);
      expect(matchesAny(g, '/var/log/app/a.log')).toBe(true);
      expect(matchesAny(g, '/var/log/web/x/y/z.log')).toBe(true);
      expect(matchesAny(g, '/var/log/db/a.log')).toBe(false);
      expect(matchesAny(g, '/var/log/app/a.log.1')).toBe(false);
      const one = compileGlob('/d/app-?.[0-9].log');
      expect(matchesAny(one, '/d/app-x.7.log')).toBe(true);
      expect(matchesAny(one, '/d/app-xy.7.log')).toBe(false);
      expect(matchesAny(compileGlob('/d/*.log'), '/d/sub/a.log')).toBe(false);
      expect(matchesAny(compileGlob('/d/[!a]*.log'), '/d/a.log')).toBe(false);
      expect(matchesAny(compileGlob('/d/a.log'), '/d/a.log')).toBe(true);
    });
  });

  describe('mayContain', () => {
    it('should prune directories that cannot hold a match', () => {
      const [g] = compileGlob('/srv/*/logs/*.log');
      expect(g?.maxDepth).toBe(2);
      expect(g?.mayContain('/srv/api')).toBe(true);
      expect(g?.mayContain('/srv/api/logs')).toBe(true);
      expect(g?.mayContain('/srv/api/tmp')).toBe(false);
      expect(g?.mayContain('/etc')).toBe(false);
      const [deep] = compileGlob('/srv/**/x.log');
      expect(deep?.maxDepth).toBe(Infinity);
      expect(deep?.mayContain('/srv/a/b/c')).toBe(true);
    });
  });
});

describe('expandBraces', () => {
  it('should expand nested alternatives and leave single ones alone', () => {
    expect(expandBraces('/a/{b,c{1,2}}/d')).toEqual([
      '/a/b/d',
      '/a/c1/d',
      '/a/c2/d',
    ]);
    expect(expandBraces('/a/{b}/d')).toEqual(['/a/{b}/d']);
  });
});
