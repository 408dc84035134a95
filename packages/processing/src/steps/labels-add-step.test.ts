import { describe, expect, it } from 'vitest';
import { processor, record } from '../../test/records.js';

describe('labelsAddStep', () => {
  describe('create', () => {
    it('should add, template, rename and remove labels copy-on-write', () => {
      const p = processor([
        { type: 'json_parse' },
        { type: 'labels_add', labels: { env: 'prod', svc: 'svc-{{app}}' } },
        { type: 'labels_rename', mapping: { host: 'hostname' } },
        { type: 'labels_remove', labels: ['tmp'] },
      ]);
      const input = record('{"app":"api"}', { host: 'h1', tmp: 'x' });
      const before = { ...input.labels };
      const out = p.process(input);
      expect(out?.labels).toEqual({
        env: 'prod',
        svc: 'svc-api',
        hostname: 'h1',
      });
      expect(input.labels).toEqual(before);
      expect(Object.isFrozen(out?.labels)).toBe(true);
    });
  });
});
