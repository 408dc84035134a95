import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WatchEventPaths } from './watch-event-paths.js';

describe('WatchEventPaths', () => {
  describe('pathOf', () => {
    it('should give what join gives, whatever the order, repeats and number of names', () => {
      const segment = fc.stringMatching(/^[a-z0-9.-]{1,8}$/);
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(
              fc.constantFrom('/var/log', '/var/log/', '/d/a/../b', '/'),
              fc.oneof(segment, fc.constantFrom('..', '.', 'x/../y')),
            ),
            { maxLength: 600 },
          ),
          (events) => {
            const paths = new WatchEventPaths();
            for (const [dir, name] of events)
              expect(paths.pathOf(dir, name)).toBe(join(dir, name));
          },
        ),
      );
    });

    it('should answer a cached name given as a new string (as each watch event brings one)', () => {
      const paths = new WatchEventPaths();
      expect(
        paths.pathOf('/var/lib/docker/containers/abc', 'abc-json.log'),
      ).toBe('/var/lib/docker/containers/abc/abc-json.log');
      // A new string with the same content, as each watch event brings one.
      const again = paths.pathOf(
        '/var/lib/docker/containers/abc',
        ['abc', '-json.log'].join(''),
      );
      expect(again).toBe('/var/lib/docker/containers/abc/abc-json.log');
    });

    it('should start a directory over past its limit and still answer right', () => {
      const paths = new WatchEventPaths();
      for (let i = 0; i < 1000; i++)
        expect(paths.pathOf('/d', `f${i}.log`)).toBe(`/d/f${i}.log`);
      for (let i = 0; i < 5000; i++)
        expect(paths.pathOf(`/d${i}`, 'a.log')).toBe(`/d${i}/a.log`);
      paths.clear();
      expect(paths.pathOf('/d', 'f1.log')).toBe('/d/f1.log');
    });
  });
});
