import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LC_ERROR_CODES } from './lc-error-code.js';
import { LcError, toLcError } from './lc-error.js';

describe('LcError', () => {
  describe('isInstance', () => {
    it('should recognise an LcError and check its code', () => {
      const e = new LcError({ code: 'LC_ERR_TIMEOUT', message: 'slow' });
      expect(LcError.isInstance(e)).toBe(true);
      expect(LcError.isInstance(e, 'LC_ERR_TIMEOUT')).toBe(true);
      expect(LcError.isInstance(e, 'LC_ERR_ABORTED')).toBe(false);
      expect(LcError.isInstance(new Error('x'))).toBe(false);
      expect(LcError.isInstance(null)).toBe(false);
    });

    it('should recognise an error from another copy of the package', () => {
      const foreign = Object.assign(new Error('x'), {
        code: 'LC_ERR_TIMEOUT',
        [Symbol.for('lc.error')]: true,
      });
      expect(LcError.isInstance(foreign, 'LC_ERR_TIMEOUT')).toBe(true);
    });
  });

  describe('toJSON', () => {
    it('should keep code, message and details', () => {
      const e = new LcError({
        code: 'LC_ERR_FILE_READ',
        message: 'boom',
        details: { path: '/a', offset: 3 },
        cause: new Error('inner'),
      });
      expect(e.toJSON()).toEqual({
        code: 'LC_ERR_FILE_READ',
        message: 'boom',
        details: { path: '/a', offset: 3 },
      });
      expect((e.cause as Error).message).toBe('inner');
    });
  });
});

describe('toLcError', () => {
  it('should wrap foreign errors and keep LcErrors', () => {
    const wrapped = toLcError(
      new Error('refused'),
      'LC_ERR_SINK_UNAVAILABLE',
      'loki',
    );
    expect(wrapped.code).toBe('LC_ERR_SINK_UNAVAILABLE');
    expect(wrapped.message).toBe('loki: refused');
    const original = new LcError({ code: 'LC_ERR_TIMEOUT', message: 't' });
    expect(toLcError(original, 'LC_ERR_INTERNAL')).toBe(original);
  });
});

describe('docs/errors.md', () => {
  it('should list exactly the codes of LC_ERROR_CODES, each with meaning and fix', () => {
    const doc = readFileSync(
      fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)),
      'utf8',
    );
    const sections = doc.split(/^### /m).slice(1);
    const documented = sections.map((s) => s.split('\n', 1)[0]?.trim());
    expect([...documented].sort()).toEqual([...LC_ERROR_CODES].sort());
    for (const section of sections) {
      expect(section).toContain('**Meaning:**');
      expect(section).toContain('**Fix:**');
    }
  });
});
