import { createCollectingIntake } from '@lc/core/testing';
import { describe, expect, it } from 'vitest';
import { record } from '../test/records.js';
import { createProcessor } from './create-processor.js';
import { createProcessingIntake } from './processing-intake.js';

function setup(highWaterMark = Infinity) {
  const next = createCollectingIntake({ highWaterMark });
  const processor = createProcessor({
    pipelines: [
      {
        name: 'default',
        steps: [
          { type: 'drop', when: { line_matches: '^noise' } },
          { type: 'redact', rules: ['passwords'] },
        ],
      },
    ],
  });
  return { next, intake: createProcessingIntake(next, processor) };
}

describe('createProcessingIntake', () => {
  describe('dispatchMany', () => {
    it('should pass processed records on in order and leave dropped ones out', () => {
      const { next, intake } = setup();
      const input = ['a password=x', 'noise 1', 'b', 'noise 2', 'c'].map(
        (line, i) => ({ ...record(line), cursor: { offset: i, line: i } }),
      );
      expect(intake.dispatchMany(input)).toBe(true);
      expect(next.records.map((r) => [r.line, r.cursor])).toEqual([
        ['a password=[REDACTED]', { offset: 0, line: 0 }],
        ['b', { offset: 2, line: 2 }],
        ['c', { offset: 4, line: 4 }],
      ]);
    });

    it('should report the next intake backpressure, and none for an all-dropped chunk', () => {
      const { next, intake } = setup(1);
      expect(intake.dispatchMany([record('noise'), record('noise')])).toBe(
        true,
      );
      expect(next.records).toHaveLength(0);
      expect(intake.dispatchMany([record('a'), record('b')])).toBe(false);
    });
  });

  describe('dispatch', () => {
    it('should accept a dropped record without passing it on', () => {
      const { next, intake } = setup(0);
      expect(intake.dispatch(record('noise'))).toBe(true);
      expect(next.records).toHaveLength(0);
      expect(intake.dispatch(record('kept'))).toBe(false);
      expect(next.records.map((r) => r.line)).toEqual(['kept']);
    });
  });

  describe('whenWritable', () => {
    it('should wait on the next intake', async () => {
      const { next, intake } = setup(1);
      intake.dispatch(record('a'));
      let resolved = false;
      const waiting = intake.whenWritable().then(() => (resolved = true));
      await Promise.resolve();
      expect(resolved).toBe(false);
      next.take();
      await waiting;
      expect(resolved).toBe(true);
    });
  });
});
