import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSinkContract } from '@lc/core/testing';
import { createSink } from './my-sink.mjs';

describeSinkContract('my-sink', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lc-pack-check-sink-'));
  const path = join(dir, 'out.log');
  return {
    sink: createSink({ path }, { name: 'mine' }),
    readBack: async () =>
      (await readFile(path, 'utf8')).split('\n').slice(0, -1),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
