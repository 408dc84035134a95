import { describe, expect, it } from 'vitest';
import {
  compileGlob,
  expandBraces,
  globSyntaxError,
  matchesAny,
} from './glob.js';

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

describe('globSyntaxError', () => {
  it('should accept every glob form compileGlob supports, and escaped specials', () => {
    for (const ok of [
      '/var/log/{app,web}/**/*.log',
      '/d/app-?.[0-9].log',
      '/d/[!a]*.log',
      '/a/{b,c{1,2}}/d',
      '/a/{b}/d',
      '/d/\\{a,b.log',
      '/d/\\[.log',
      '/d/a\\}.log',
    ])
      expect(globSyntaxError(ok), ok).toBeUndefined();
  });

  it('should name an unclosed "{", a stray "}", an unclosed "[" and a class that does not compile', () => {
    expect(globSyntaxError('/d/{a,b.log')).toBe(
      '"{" at character 4 is never closed (add "}" or escape it as "\\{")',
    );
    expect(globSyntaxError('/d/a,b}.log')).toMatch(
      /^"}" at character 7 has no opening "\{"/,
    );
    expect(globSyntaxError('/d/[.log')).toBe(
      '"[" in "[.log" is never closed (add "]" or escape it as "\\[")',
    );
    expect(globSyntaxError('/d/{x,[.log}')).toMatch(
      /"\[" in "\[\.log" is never closed/,
    );
    expect(globSyntaxError('/d/[z-a].log')).toMatch(/^it does not compile: /);
  });
});
