import { describe, expect, it } from 'vitest';
import { processor, record } from '../../test/records.js';

describe('jsonParseStep', () => {
  describe('create', () => {
    it('should parse JSON and promote fields to labels, metadata and line', () => {
      const p = processor([
        {
          type: 'json_parse',
          labels: ['app'],
          metadata: ['trace_id'],
          message_field: 'msg',
        },
      ]);
      const out = p.process(
        record('{"app":"api","trace_id":"t1","msg":"hello","n":1}'),
      );
      expect(out?.line).toBe('hello');
      expect(out?.labels).toEqual({ app: 'api' });
      expect(out?.metadata).toEqual({ trace_id: 't1' });
      expect(out?.cursor).toEqual({ offset: 10, line: 1 });
    });

    it('should leave non-JSON lines untouched', () => {
      const p = processor([{ type: 'json_parse', labels: ['app'] }]);
      const r = record('{not json');
      expect(p.process(r)).toBe(r);
    });
  });
});
