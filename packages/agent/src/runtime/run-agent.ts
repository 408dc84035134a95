import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LcError } from '@lc/core';
import type { FastifyInstance } from 'fastify';
import { formatConfigIssues } from '../config/load-config.js';
import type { AgentConfig } from '../config/schema.js';
import { collectSecrets } from '../config/redact-secrets.js';
import { createSecretScrubber } from '../config/secret-scrubber.js';
import { SAMPLE_LINES } from '../default-config.js';
import { describeError } from '../internal/describe-error.js';
import { checkIncludeRoots, writtenPaths } from './check-paths.js';
import { createAgent } from './create-agent.js';
import { createAgentLogger } from './create-logger.js';
import { holdDataDir } from './data-dir-lock.js';
import { readSinkFiles } from './sink-files.js';
import type { EarlyStart } from './early-positions.js';
import type { EarlySignals } from './early-signals.js';
import { EXIT_CODES } from './exit-codes.js';
import { loadAgentConfig } from './load-agent-config.js';
import { watchParent } from './parent-watch.js';

export { EXIT_CODES } from './exit-codes.js';
export { loadAgentConfig } from './load-agent-config.js';

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
  /**
   * Shut down gracefully when the process that started the agent exits
   * (`--exit-with-parent`): a wrapper killed without forwarding its signal
   * (a package-manager script, a supervisor script) must not leave the
   * agent running. Ignored when the parent is init. @default false
   */
  exitWithParent?: boolean;
  /**
   * Stop signals caught since process start (`catchEarlySignals`): one
   * received before the agent starts stops it at once, exit 0.
   */
  signals?: EarlySignals;
}

/** A fatal error, as one line on stderr whatever the log format. */
function fatalLine(text: string): void {
  process.stderr.write(`lc-agent: ${text}\n`);
}

/** The config key of the longest path the agent writes that `text` names. */
function keyOfPath(config: AgentConfig, text: string): string | undefined {
  let best: { key: string; length: number } | undefined;
  for (const w of writtenPaths(config))
    if (text.includes(w.path) && w.path.length > (best?.length ?? 0))
      best = { key: w.key, length: w.path.length };
  return best?.key;
}

/** Secrets the sinks read from files (`password_file`, TLS keys…). */
function fileSecrets(config: AgentConfig): readonly string[] {
  const files = readSinkFiles(config);
  return files.ok ? files.files.secretValues : [];
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
    early?.lock?.release();
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
  // Every secret of the config is scrubbed from every log line.
  const secrets = createSecretScrubber(collectSecrets(config));
  secrets.add(fileSecrets(config));
  const logger = createAgentLogger(
    config.app.log_level,
    config.app.name,
    config.app.log_format,
    { secrets },
  );
  early?.logger.attach(logger);
  if (options.configPath === undefined && (await seedSampleLogs())) {
    logger.info(
      'created ./logs/sample.log with sample lines (embedded default config)',
    );
  }
  // After seeding: the same warnings `validate` prints.
  for (const w of checkIncludeRoots(config))
    logger.warn({ key: w.path }, `${w.path}: ${w.message}`);
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
    secrets.add(collectSecrets(next.ok ? next.config : {}));
    if (next.ok) secrets.add(fileSecrets(next.config));
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
    const { buildApi } = await import('./build-api.js');
    api = buildApi(config, {
      agent,
      version: options.version,
      env: process.env,
      ...(options.configPath === undefined ? {} : { reload }),
      logger,
    });
    const { host, port } = config.api;
    try {
      return await api.listen({ host, port });
    } catch (error) {
      throw new Error(`api.port: cannot listen on ${host}:${port}`, {
        cause: error,
      });
    }
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
  // One human line (no JSON, no stack); the stack is logged at debug.
  const onFatal = (kind: string) => (error: unknown) => {
    logger.debug({ err: error }, kind);
    fatalLine(
      secrets.scrub(
        `${kind}: ${describeError(error)}; stopping the agent (exit ${EXIT_CODES.failure}; app.log_level: debug logs the stack)`,
      ),
    );
    stopCode = EXIT_CODES.failure;
    if (!stopping) stop(kind);
  };
  const onUncaught = onFatal('uncaught exception');
  const onUnhandled = onFatal('unhandled promise rejection');
  process.on('exit', dataDirLock.release);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  options.signals?.release();
  process.on('SIGHUP', onHup);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  const parent =
    options.exitWithParent === true
      ? watchParent({
          onGone: ({ parentPid, newParentPid }) => {
            logger.warn(
              { parentPid, newParentPid },
              'the parent process exited (--exit-with-parent): shutting down',
            );
            if (!stopping) stop('parent exited');
          },
        })
      : undefined;
  if (parent?.watching === false) {
    logger.info(
      { parentPid: parent.parentPid },
      '--exit-with-parent: the parent is init, nothing to watch',
    );
  }
  const earlySignal = options.signals?.received;
  if (earlySignal !== undefined) {
    // Nothing has started: nothing to drain, nothing to commit.
    logger.info(
      { signal: earlySignal },
      'shutting down: the stop signal came during start-up, before anything was read',
    );
    release();
    await early?.store?.close().catch(() => undefined);
    return EXIT_CODES.ok;
  }
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
    logger.debug({ err: error }, 'failed to start');
    await agent.shutdown().catch(() => undefined);
    await api?.close().catch(() => undefined);
    release();
    // Last, so it is the line a user sees: where (the config key of the
    // path it names, when it names one), what, and why.
    const what = describeError(error);
    const key = keyOfPath(config, what);
    fatalLine(
      secrets.scrub(
        `failed to start: ${key === undefined || what.startsWith(key) ? '' : `${key}: `}${what} (exit ${EXIT_CODES.failure})`,
      ),
    );
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
    parent?.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.off('SIGHUP', onHup);
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
  }
}
