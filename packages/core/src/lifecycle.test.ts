import { describe, expect, it } from 'vitest';
import { LcError } from './lc-error.js';
import { once, sleep, withTimeout } from './lifecycle.js';

describe('once', () => {
  it('should run the function once and share its promise', async () => {
    let runs = 0;
    const f = once(async () => ++runs);
    const [a, b] = await Promise.all([f(), f()]);
    expect([a, b, await f(), runs]).toEqual([1, 1, 1, 1]);
  });
});

describe('withTimeout', () => {
  it('should reject LC_ERR_TIMEOUT when too slow', async () => {
    await expect(
      withTimeout(new Promise(() => {}), 10, { what: 'probe' }),
    ).rejects.toSatisfy(
      (e: unknown) =>
        LcError.isInstance(e, 'LC_ERR_TIMEOUT') &&
        /probe/.test((e as Error).message),
    );
  });

  it('should pass through the value when fast enough', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000)).resolves.toBe(7);
  });

  it('should reject LC_ERR_ABORTED when the signal aborts', async () => {
    const c = new AbortController();
    const p = withTimeout(new Promise(() => {}), 10_000, { signal: c.signal });
    c.abort();
    await expect(p).rejects.toSatisfy((e: unknown) =>
      LcError.isInstance(e, 'LC_ERR_ABORTED'),
    );
  });
});

describe('sleep', () => {
  it('should reject immediately for an aborted signal', async () => {
    const c = new AbortController();
    c.abort();
    await expect(sleep(10_000, c.signal)).rejects.toSatisfy((e: unknown) =>
      LcError.isInstance(e, 'LC_ERR_ABORTED'),
    );
  });
});
