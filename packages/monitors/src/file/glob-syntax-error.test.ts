import { describe, expect, it } from 'vitest';
import { globSyntaxError } from './glob-syntax-error.js';

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
