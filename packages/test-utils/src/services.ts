import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';

/** The real services integration tests run against. */
export type ServiceName = 'docker' | 'kafka' | 'redis';

/** Addresses of the services, from env vars or `.lc-services.env`. */
export interface ServiceEnv {
  dockerSocket?: string;
  dockerTestImage: string;
  kafkaBrokers?: string;
  redisUrl?: string;
  servicesScript?: string;
}

/** True when CI demands every service (`LC_REQUIRE_SERVICES=1`). */
export const servicesRequired = (): boolean =>
  process.env.LC_REQUIRE_SERVICES === '1' ||
  process.env.LC_REQUIRE_SERVICES === 'true';

/** Find the workspace root (the folder holding pnpm-workspace.yaml). */
export function workspaceRoot(from = process.cwd()): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
}

function readEnvFile(): Record<string, string> {
  const file = join(workspaceRoot(), '.lc-services.env');
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}

/** Current service addresses; env vars win over the env file. */
export function serviceEnv(): ServiceEnv {
  const file = readEnvFile();
  const get = (key: string): string | undefined =>
    process.env[key] ?? file[key];
  const socket =
    get('LC_DOCKER_SOCKET') ??
    (existsSync('/var/run/docker.sock') ? '/var/run/docker.sock' : undefined);
  return {
    dockerSocket: socket,
    dockerTestImage: get('LC_DOCKER_TEST_IMAGE') ?? 'lc-test/busybox',
    kafkaBrokers: get('LC_KAFKA_BROKERS'),
    redisUrl: get('LC_REDIS_URL'),
    servicesScript: get('LC_SERVICES_SCRIPT'),
  };
}

function probe(
  options: { path: string } | { host: string; port: number },
  timeoutMs = 1000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(options as never);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function hostPort(address: string): { host: string; port: number } {
  const clean = address.replace(/^[a-z]+:\/\//, '').split(',')[0] ?? '';
  const [host = '127.0.0.1', port = '0'] = clean.split(':');
  return { host, port: Number.parseInt(port, 10) };
}

/**
 * Check a service: resolves `undefined` when it answers, or the reason it
 * cannot be used.
 */
export async function serviceUnavailableReason(
  name: ServiceName,
): Promise<string | undefined> {
  const env = serviceEnv();
  switch (name) {
    case 'docker':
      if (env.dockerSocket === undefined)
        return 'no Docker socket (run `bash scripts/services.sh start`)';
      return (await probe({ path: env.dockerSocket }))
        ? undefined
        : `Docker socket ${env.dockerSocket} does not answer`;
    case 'kafka':
      if (env.kafkaBrokers === undefined)
        return 'LC_KAFKA_BROKERS not set (run `bash scripts/services.sh start`)';
      return (await probe(hostPort(env.kafkaBrokers)))
        ? undefined
        : `Kafka broker ${env.kafkaBrokers} does not answer`;
    case 'redis':
      if (env.redisUrl === undefined)
        return 'LC_REDIS_URL not set (run `bash scripts/services.sh start`)';
      return (await probe(hostPort(env.redisUrl)))
        ? undefined
        : `Redis ${env.redisUrl} does not answer`;
  }
}

/**
 * For `describe.skipIf(...)`: resolves true when the test must skip. Prints
 * the reason when skipping; throws when the service is missing and
 * `LC_REQUIRE_SERVICES=1`, so CI fails instead of skipping.
 */
export async function skipWithout(...names: ServiceName[]): Promise<boolean> {
  for (const name of names) {
    const reason = await serviceUnavailableReason(name);
    if (reason === undefined) continue;
    if (servicesRequired()) {
      throw new Error(
        `LC_ERR_SERVICE_UNAVAILABLE: ${name} is required (LC_REQUIRE_SERVICES=1) but unavailable: ${reason}`,
      );
    }
    console.warn(`[skip] ${name} unavailable: ${reason}`);
    return true;
  }
  return false;
}
