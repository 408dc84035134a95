import { describe, expect, it } from 'vitest';
import { parseConfig } from './load-config.js';
import { toMultilineOptions } from './multiline-schema.js';

const SINK = 'sinks: {stdout: [{}]}\n';
const files = (multiline: string) =>
  `${SINK}sources: {files: [{include: ["/var/log/app/*.log"], multiline: ${multiline}}]}\n`;

function issuesOf(text: string): string[] {
  const result = parseConfig(text, { env: {} });
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.issues.map((i) => `${i.path}: ${i.message}`);
}

describe('multilineSchema', () => {
  describe('parse', () => {
    it('should accept a preset per file group and for docker, with defaults', () => {
      const result = parseConfig(
        `${SINK}sources:
  files: [{include: ["/var/log/app/*.log"], multiline: {preset: java}}]
  docker: {enabled: true, multiline: {preset: go, flush_timeout: 2s}}
`,
        { env: {} },
      );
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      const f = result.config.sources.files[0];
      expect(f?.multiline).toEqual({
        preset: 'java',
        negate: false,
        max_lines: 500,
        max_bytes: 1024 * 1024,
        flush_timeout: 1000,
      });
      expect(f?.read_compressed).toBe(true);
      expect(
        toMultilineOptions(result.config.sources.docker.multiline),
      ).toEqual({
        preset: 'go',
        maxLines: 500,
        maxBytes: 1024 * 1024,
        flushTimeoutMs: 2000,
      });
    });

    it('should accept it for the Kubernetes source, mapped to the monitor options', () => {
      const result = parseConfig(
        `${SINK}sources: {kubernetes: {enabled: true, multiline: {preset: python, max_lines: 80}}}\n`,
        { env: {} },
      );
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(
        toMultilineOptions(result.config.sources.kubernetes.multiline),
      ).toEqual({
        preset: 'python',
        maxLines: 80,
        maxBytes: 1024 * 1024,
        flushTimeoutMs: 1000,
      });
      expect(
        issuesOf(
          `${SINK}sources: {kubernetes: {enabled: true, multiline: {preset: java, end_pattern: x}}}\n`,
        ),
      ).toEqual([
        'sources.kubernetes.multiline: expected exactly one of preset, start_pattern, continue_pattern, end_pattern, got preset and end_pattern',
      ]);
    });

    it('should map a negated pattern with its limits to the monitor options', () => {
      const result = parseConfig(
        files(
          "{start_pattern: '^\\s', negate: true, max_lines: 50, max_bytes: 64KiB}",
        ),
        { env: {} },
      );
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(
        toMultilineOptions(result.config.sources.files[0]?.multiline),
      ).toEqual({
        startPattern: '^\\s',
        negate: true,
        maxLines: 50,
        maxBytes: 65_536,
        flushTimeoutMs: 1000,
      });
      expect(toMultilineOptions(undefined)).toBeUndefined();
    });
  });

  describe('rejections', () => {
    const table: [name: string, multiline: string, expected: string][] = [
      [
        'two rules',
        "{start_pattern: '^\\d', continue_pattern: '^\\s'}",
        'sources.files[0].multiline: expected exactly one of preset, start_pattern, continue_pattern, end_pattern, got start_pattern and continue_pattern',
      ],
      [
        'no rule',
        '{max_lines: 10}',
        'sources.files[0].multiline: expected exactly one of preset, start_pattern, continue_pattern, end_pattern, got none',
      ],
      [
        'a regular expression that does not compile',
        "{start_pattern: '('}",
        'sources.files[0].multiline.start_pattern: expected a valid regular expression, got "("',
      ],
      [
        'negate with a preset',
        '{preset: python, negate: true}',
        'sources.files[0].multiline.negate: negate applies to a pattern, not to a preset',
      ],
      [
        'a misspelled key',
        "{start_patern: '^S'}",
        'sources.files[0].multiline.start_patern: unknown key "start_patern", did you mean "start_pattern"?',
      ],
    ];
    for (const [name, multiline, expected] of table) {
      it(`should reject ${name} naming the key`, () => {
        expect(issuesOf(files(multiline))).toContain(expected);
      });
    }

    it('should reject an unknown preset naming the presets', () => {
      expect(issuesOf(files('{preset: ruby}')).join('\n')).toMatch(
        /sources\.files\[0\]\.multiline\.preset: expected one of "java", "python", "go", "json"/,
      );
    });
  });
});
