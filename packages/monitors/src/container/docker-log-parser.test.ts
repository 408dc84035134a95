import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { DockerLogEntry } from './docker-log-parser.js';
import { DOCKER_PARTIAL_BYTES, DockerLogParser } from './docker-log-parser.js';

const TS = '2026-11-23T18:27:49.613708640Z';

function frame(type: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

function parseAll(tty: boolean, chunks: Buffer[]): DockerLogEntry[] {
  const out: DockerLogEntry[] = [];
  const p = new DockerLogParser(tty, (e) =>
    out.push({ ...e, content: Buffer.from(e.content) }),
  );
  for (const c of chunks) p.push(c);
  p.end();
  return out;
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('DockerLogParser', () => {
  describe('push', () => {
    it('should parse the timestamp to nanoseconds', () => {
      const [e] = parseAll(false, [frame(1, Buffer.from(`${TS} hello\n`))]);
      expect(e?.timestampNs).toBe('1795458469613708640');
      expect(e?.timestamp).toEqual({
        timestampMs: 1795458469613,
        timestampNanos: 708640,
      });
      expect(e?.content.toString()).toBe('hello\n');
      expect(e?.stream).toBe('stdout');
    });

    test.prop([
      fc.array(
        fc.tuple(
          fc.constantFrom<1 | 2>(1, 2),
          fc.uint8Array({ maxLength: 40 }),
        ),
        {
          maxLength: 20,
        },
      ),
      fc.array(fc.nat(), { maxLength: 10 }),
    ])(
      'should give the same entries however the body is chunked',
      (frames, cuts) => {
        const body = Buffer.concat(
          frames.map(([t, bytes]) =>
            frame(
              t,
              Buffer.concat([Buffer.from(`${TS} `), Buffer.from(bytes)]),
            ),
          ),
        );
        const entries = parseAll(false, splitAt(body, cuts));
        expect(entries.map((e) => [e.stream, [...e.content]])).toEqual(
          frames.map(([t, bytes]) => [
            t === 1 ? 'stdout' : 'stderr',
            [...bytes],
          ]),
        );
      },
    );

    it('should split a raw TTY stream into lines, partials and a final unterminated entry', () => {
      const long = 'x'.repeat(DOCKER_PARTIAL_BYTES);
      const body = Buffer.from(
        `${TS} one\r\n${TS} ${long}${TS} rest\r\n${TS} tail`,
      );
      const entries = parseAll(true, splitAt(body, [7, 100, 16_500]));
      expect(entries.map((e) => e.content.toString())).toEqual([
        'one\r\n',
        long,
        'rest\r\n',
        'tail',
      ]);
    });
  });
});
