import { LcError } from '@lc/core';
import { describe, expect, it } from 'vitest';
import { describeError } from './describe-error.js';

describe('describeError', () => {
  it('should name each cause once when the wrapper already quotes it', () => {
    const errno = Object.assign(
      new Error("ENOTDIR: not a directory, mkdir '/x/y'"),
      { code: 'ENOTDIR' },
    );
    const wrapped = new LcError({
      code: 'LC_ERR_BUFFER_IO',
      message: `cannot create /x/y: ${errno.message}`,
      cause: errno,
    });
    expect(describeError(wrapped)).toBe(
      "cannot create /x/y: ENOTDIR: not a directory, mkdir '/x/y' (LC_ERR_BUFFER_IO)",
    );
  });

  it('should append a cause that adds something, and the code when not already said', () => {
    const cause = Object.assign(new Error('permission denied'), {
      code: 'EACCES',
    });
    expect(describeError(new Error('cannot open /d/wal', { cause }))).toBe(
      'cannot open /d/wal: permission denied (EACCES)',
    );
    expect(describeError(new Error('x'), { code: false })).toBe('x');
  });

  it('should flatten a multi-line message into one line and survive odd throws', () => {
    expect(
      describeError(new Error('invalid configuration:\n  a: b\n  c: d')),
    ).toBe('invalid configuration: a: b; c: d');
    expect(describeError('plain string')).toBe('plain string');
    expect(describeError(undefined)).toBe('unknown error');
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(describeError(loop)).toBe('loop');
  });
});
