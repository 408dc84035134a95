// A custom sink as a user writes one, against the installed @lc/core:
// lc-agent loads it through sinks.custom (agent.yaml), and vitest proves
// it with describeSinkContract (my-sink.test.mjs).
import { appendFile } from 'node:fs/promises';
import { defineSink, LcError } from '@lc/core';

export function createSink(options, { name }) {
  if (typeof options.path !== 'string') {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: 'path: expected a file path',
    });
  }
  return defineSink({
    name,
    async write(batch) {
      await appendFile(options.path, batch.map((r) => `${r.line}\n`).join(''));
    },
  });
}
