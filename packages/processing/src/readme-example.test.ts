// The README's custom step, verbatim: it must compile and do what it says.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { record } from '../test/records.js';
import { createProcessor, defineStep } from './index.js';

describe('defineStep', () => {
  describe('README example', () => {
    it('should set the tenant from the path', () => {
      const tenant = defineStep({
        type: 'tenant_from_path',
        options: { depth: z.number().int().min(1).default(3) },
        create:
          ({ depth }, env) =>
          (ctx) => {
            const part = ctx.labels['filename']?.split('/')[depth];
            if (part === undefined) return env.count('tenant_missing');
            ctx.setLabels({ tenant: part });
          },
      });

      const processor = createProcessor({
        steps: [tenant],
        pipelines: [
          { name: 'default', steps: [{ type: 'tenant_from_path', depth: 4 }] },
        ],
      });
      expect(
        processor.process(
          record('x', { filename: '/var/log/tenants/acme/app.log' }),
        )?.labels,
      ).toEqual({ filename: '/var/log/tenants/acme/app.log', tenant: 'acme' });
      expect(processor.process(record('x'))?.labels).toEqual({});
    });
  });
});
