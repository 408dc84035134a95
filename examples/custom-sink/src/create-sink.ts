import { LcError } from '@lc/core';
import type { SinkFactory } from '@lc/core';
import { createAppendSink } from './append-sink.js';

/**
 * The factory lc-agent calls for a `sinks.custom` entry naming this
 * package (or its built file): `options.path` is the file to append to.
 * It checks its options and opens nothing: the first write does.
 */
export const createSink: SinkFactory = (options, { name }) => {
  const path = options['path'];
  if (typeof path !== 'string' || path === '') {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `path: expected the file to append to, got ${JSON.stringify(path) ?? 'nothing'}`,
    });
  }
  return createAppendSink(path, name);
};
