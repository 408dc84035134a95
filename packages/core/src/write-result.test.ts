import { describe, expect, it } from 'vitest';
import { LcError } from './lc-error.js';
import { WriteResults } from './write-result.js';

const err = new LcError({ code: 'LC_ERR_SINK_REJECTED', message: 'bad' });

describe('WriteResults', () => {
  describe('partial', () => {
    it('should collapse to success when nothing failed', () => {
      expect(WriteResults.partial([], 3)).toEqual({ status: 'success' });
    });

    it('should collapse to a whole-batch result when all failed alike', () => {
      const r = WriteResults.partial(
        [0, 1].map((index) => ({ index, retryable: false, error: err })),
        2,
      );
      expect(r).toEqual({ status: 'failure', error: err });
    });

    it('should keep per-record outcomes sorted by index', () => {
      const r = WriteResults.partial(
        [
          { index: 2, retryable: false, error: err },
          { index: 0, retryable: true, error: err, retryAfterMs: 10 },
        ],
        3,
      );
      expect(r.status).toBe('partial');
      if (r.status === 'partial')
        expect(r.failed.map((f) => f.index)).toEqual([0, 2]);
    });
  });
});
