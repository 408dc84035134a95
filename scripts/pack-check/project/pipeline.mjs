// FileMonitor -> processing (redact) -> dispatcher -> file sink from the
// installed packages: every line written to a log file arrives in the
// sink's output, in order, with its password redacted.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDispatcher } from '@lc/dispatcher';
import { createFileMonitor } from '@lc/monitors';
import { createProcessingIntake, createProcessor } from '@lc/processing';
import {
  createJsonFilePositionStore,
  createPositionManager,
} from '@lc/positions';
import { createFileSink } from '@lc/sinks';

const LINES = 1000;
const dir = await mkdtemp(join(tmpdir(), 'lc-pack-check-pipeline-'));
try {
  const written = Array.from(
    { length: LINES },
    (_, i) => `line ${i} password=hunter${i}`,
  );
  await writeFile(join(dir, 'app.log'), `${written.join('\n')}\n`);
  const lines = written.map((l) => l.replace(/hunter\d+/, '[REDACTED]'));
  const positions = createPositionManager({
    store: createJsonFilePositionStore({ path: join(dir, 'positions.json') }),
  });
  await positions.start();
  const dispatcher = createDispatcher({
    sinks: [createFileSink({ name: 'out', directory: join(dir, 'out') })],
    committer: positions,
    batchTimeoutMs: 50,
  });
  await dispatcher.start();
  const processor = createProcessor({
    pipelines: [
      { name: 'app', steps: [{ type: 'redact', rules: ['passwords'] }] },
    ],
  });
  const monitor = createFileMonitor({
    intake: createProcessingIntake(dispatcher, processor),
    positions,
    include: [join(dir, '*.log')],
  });
  await monitor.start();
  const delivered = async () => {
    const files = await readdir(join(dir, 'out')).catch(() => []);
    const out = [];
    for (const f of files.sort()) {
      for (const l of (await readFile(join(dir, 'out', f), 'utf8')).split('\n'))
        if (l !== '') out.push(JSON.parse(l).line);
    }
    return out;
  };
  const deadline = Date.now() + 60_000;
  while ((await delivered()).length < LINES) {
    if (Date.now() > deadline)
      throw new Error(
        `only ${(await delivered()).length}/${LINES} lines delivered in 60 s`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
  await monitor.shutdown();
  await dispatcher.shutdown();
  await positions.shutdown();
  const got = await delivered();
  if (JSON.stringify(got) !== JSON.stringify(lines))
    throw new Error(`delivered lines differ: ${got.length} lines`);
  console.log(
    `pack-check:   pipeline: ${LINES} lines FileMonitor -> processing (redact) -> dispatcher -> file sink`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
