import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LcError } from '@lc/core';
import type { FastifyInstance } from 'fastify';
import {
  formatConfigIssues,
  loadConfigFile,
  parseConfig,
} from '../config/load-config.js';
import type { ConfigResult } from '../config/load-config.js';
import { DEFAULT_CONFIG_YAML, SAMPLE_LINES } from '../default-config.js';
import { checkSinkAvailability } from './build-sinks.js';
import { createAgent } from './create-agent.js';
import { createAgentLogger } from './create-logger.js';
import { holdDataDir } from './data-dir-lock.js';
import type { EarlyStart } from './early-positions.js';

/** Process exit codes of `lc-agent`. */
export const EXIT_CODES = {
  /** Clean shutdown. */
  ok: 0,
  /** Failed to start or a fatal runtime error. */
  failure: 1,
  /** Invalid configuration or usage. */
  config: 2,
  /** Shutdown did not finish in time; exited anyway. */
  shutdownTimeout: 3,
  /** A second SIGINT/SIGTERM forced the exit. */
  forced: 130,
} as const;

/** How long a slow start runs before the API is brought up anyway, ms. */
const API_DEFER_MS = 1000;

/** Options for {@link runAgent}. */
export interface RunAgentOptions {
  /** Config file; undefined = embedded default. */
  configPath?: string;
  /** Agent version, for /health and logs. */
  version: string;
  /** What `openPositionsEarly` prepared at process start, if it ran. */
  early?: EarlyStart;
}

/**
 * Load a config file, or the embedded default when no path is given
 * (`text`: its content, already read).
 */
export async function loadAgentConfig(
  configPath: string | undefined,
  text?: string,
): Promise<ConfigResult> {
  const result =
    text !== undefined
      ? parseConfig(text)
      : configPath === undefined
        ? parseConfig(DEFAULT_CONFIG_YAML)
        : await loadConfigFile(configPath);
  if (!result.ok) return result;
  const unavailable = checkSinkAvailability(result.config);
  return unavailable.length > 0 ? { ok: false, issues: unavailable } : result;
}

async function seedSampleLogs(): Promise<boolean> {
  if (existsSync('logs')) return false;
  await mkdir('logs', { recursive: true });
  await writeFile(join('logs', 'sample.log'), `${SAMPLE_LINES.join('\n')}\n`);
  return true;
}

/**
 * `lc-agent run`: start the agent and the API, handle signals, resolve with
 * the exit code. SIGINT/SIGTERM shut down gracefully (a second one forces
 * exit 130); SIGHUP reloads the config file (a bad file is rejected and
 * the running config kept).
 */
export async function runAgent(options: RunAgentOptions): Promise<number> {
  const early = options.early;
  const loaded = await loadAgentConfig(options.configPath, early?.text);
  if (!loaded.ok) {
    await early?.store?.close().catch(() => undefined);
    process.stderr.write(
      `lc-agent: invalid configuration${options.configPath === undefined ? '' : ` in ${options.configPath}`}:\n${formatConfigIssues(loaded.issues)}\n`,
    );
    return EXIT_CODES.config;
  }
  const config = loaded.config;
  const held = holdDataDir(config.app.data_dir, early);
  if (!held.ok) {
    await early?.store?.close().catch(() => undefined);
    process.stderr.write(`lc-agent: ${held.message}\n`);
    return EXIT_CODES.config;
  }
  const dataDirLock = held.lock;
  const logger = createAgentLogger(
    config.app.log_level,
    config.app.name,
    config.app.log_format,
  );
  early?.logger.attach(logger);
  if (options.configPath === undefined && (await seedSampleLogs())) {
    logger.info(
      'created ./logs/sample.log with sample lines (embedded default config)',
    );
  }
  const agent = createAgent({
    config,
    logger,
    ...(early === undefined
      ? {}
      : {
          registry: early.registry,
          ...(early.store === undefined ? {} : { positionStore: early.store }),
        }),
  });
  const reload = async () => {
    const next = await loadAgentConfig(options.configPath);
    if (!next.ok) {
      logger.warn(
        { issues: next.issues },
        'reload rejected: invalid configuration; keeping the running one',
      );
      throw new LcError({
        code: 'LC_ERR_CONFIG',
        message: `invalid configuration:\n${formatConfigIssues(next.issues)}`,
        details: { issues: next.issues },
      });
    }
    return agent.reload(next.config);
  };
  let api: FastifyInstance | undefined;
  /** Load, build and bind the API; its address, or undefined when disabled. */
  const startApi = async (): Promise<string | undefined> => {
    if (!config.api.enabled) return undefined;
    const { createApiServer } = await import('../api/create-api-server.js');
    api = createApiServer({
      agent,
      version: options.version,
      ...(config.api.token === undefined ? {} : { token: config.api.token }),
      env: process.env,
      maxBodyBytes: config.api.max_body_bytes,
      maxRecordsPerRequest: config.api.max_records_per_request,
      metrics: config.metrics.enabled,
      ...(options.configPath === undefined ? {} : { reload }),
      logger,
    });
    return api.listen({ host: config.api.host, port: config.api.port });
  };

  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => (resolveExit = r));
  // The process holds itself alive from here to the end, whatever the
  // config starts (API off, no watchers, nothing to read): components
  // unref their timers, so without this Node would exit on an empty loop.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let stopping = false;
  /** Exit code of a clean stop; a fatal error makes it a failure. */
  let stopCode: number = EXIT_CODES.ok;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: forcing exit');
      resolveExit(EXIT_CODES.forced);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Deliberately not unref'd: components unref their timers, so this one
    // keeps the process alive while they drain (and bounds the drain).
    const bound = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      resolveExit(EXIT_CODES.shutdownTimeout);
    }, config.dispatcher.shutdown_timeout + 15_000);
    void (async () => {
      try {
        // The API stays up until the pipeline has stopped: /ready answers
        // 503 "stopping" and ingest 503 with Retry-After meanwhile, so a
        // load balancer or client sees the stop instead of a refused
        // connection. It closes last.
        await agent.shutdown();
        await api?.close();
        resolveExit(stopCode);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        await api?.close().catch(() => undefined);
        resolveExit(EXIT_CODES.failure);
      } finally {
        clearTimeout(bound);
      }
    })();
  };
  const onHup = () => {
    if (options.configPath === undefined) {
      logger.warn('SIGHUP ignored: running on the embedded default config');
      return;
    }
    reload().catch((error: unknown) =>
      logger.warn({ err: error }, 'reload failed'),
    );
  };
  // A bug must not end the process silently: say what happened, then stop
  // as cleanly as can be (positions and the WAL are durable per batch).
  const onFatal = (kind: string) => (error: unknown) => {
    logger.fatal(
      { err: error },
      `${kind}: stopping the agent (exit ${EXIT_CODES.failure})`,
    );
    stopCode = EXIT_CODES.failure;
    if (!stopping) stop(kind);
  };
  const onUncaught = onFatal('uncaught exception');
  const onUnhandled = onFatal('unhandled promise rejection');
  process.on('exit', dataDirLock.release);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', onHup);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  try {
    // Sources start first: that is what makes the identities of the files
    // being read durable, and a crash loop must get there each time. The
    // API follows once they run, or after API_DEFER_MS of a slow start (a
    // WAL backlog is delivered before sources start), answering /health and
    // /ready 503 "starting" meanwhile.
    const starting = agent.start().then(() => 'started' as const);
    starting.catch(() => undefined); // awaited below; not "unhandled" meanwhile
    const stopped = exited.then(() => 'exited' as const);
    let slowTimer: NodeJS.Timeout | undefined;
    const slow = new Promise<'slow'>((r) => {
      slowTimer = setTimeout(() => r('slow'), API_DEFER_MS);
    });
    let outcome = await Promise.race([starting, slow, stopped]);
    clearTimeout(slowTimer);
    if (outcome === 'exited') return await finish();
    const address = await startApi();
    if (outcome === 'slow') {
      if (address !== undefined)
        logger.info({ listen: address }, 'api listening; agent starting');
      // A signal during a long (or stuck) start must still end the process.
      outcome = await Promise.race([starting, stopped]);
      if (outcome === 'exited') return await finish();
    }
    if (address !== undefined)
      logger.info({ address }, 'api listening; agent ready');
  } catch (error) {
    logger.fatal(
      { err: error },
      `failed to start (exit ${EXIT_CODES.failure})`,
    );
    await agent.shutdown().catch(() => undefined);
    await api?.close().catch(() => undefined);
    release();
    return EXIT_CODES.failure;
  }
  return finish();

  async function finish(): Promise<number> {
    const code = await exited;
    release();
    return code;
  }

  function release(): void {
    dataDirLock.release();
    process.off('exit', dataDirLock.release);
    clearInterval(keepAlive);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.off('SIGHUP', onHup);
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
  }
}
