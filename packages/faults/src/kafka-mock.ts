import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A librdkafka mock cluster (one broker) run by `kcat`, owned by one test. */
export interface MockBroker {
  /** `127.0.0.1:<port>` the broker listens on (new on every start). */
  readonly address: string;
  /** SIGKILL the broker (its in-memory topics are gone); resolves on exit. */
  kill(): Promise<void>;
}

/**
 * Starts `kcat -P -X test.mock.num.brokers=1` with stdin held open and
 * reads the bootstrap address it prints. Topics are auto-created (4
 * partitions) on first use. Needs `kcat` on PATH (installed by
 * `scripts/services.sh start`).
 */
export function startMockBroker(timeoutMs = 15_000): Promise<MockBroker> {
  return new Promise<MockBroker>((resolve, reject) => {
    const child = spawn(
      'kcat',
      [
        '-P',
        '-b',
        '127.0.0.1:1',
        '-t',
        'lc-faults-mock',
        '-X',
        'test.mock.num.brokers=1',
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let text = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat mock broker did not print its address: ${text}`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.stderr.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /bootstrap\.servers=(127\.0\.0\.1:\d+)|(127\.0\.0\.1:\d+)/.exec(
        text,
      );
      if (m === null) return;
      clearTimeout(timer);
      resolve({
        address: (m[1] ?? m[2]) as string,
        async kill() {
          if (child.exitCode === null && child.signalCode === null)
            child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}

/**
 * Every message value of `topic` on the broker at `address`, read from the
 * beginning of every partition to its current end (`kcat -C -e`), one
 * value per element (values must not contain newlines).
 */
export async function consumeTopic(
  address: string,
  topic: string,
): Promise<string[]> {
  const { stdout } = await run(
    'kcat',
    ['-C', '-b', address, '-t', topic, '-o', 'beginning', '-e', '-q'],
    { maxBuffer: 1 << 28, timeout: 60_000 },
  );
  return stdout === '' ? [] : stdout.replace(/\n$/, '').split('\n');
}
