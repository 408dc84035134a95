// lc-agent command line: run, validate, positions, dlq, buffer. Loaded by
// cli.ts once it catches stop signals.
import { readFileSync } from 'node:fs';
import type { EarlySignals } from './runtime/early-signals.js';
import { Command, Option } from 'commander';
import { exitQuietlyOnClosedStdout } from './cli/output.js';
import { configureUsage, runProgram } from './cli/usage.js';

/** Parse the command line and run the command; `earlySignals` from cli.ts. */
export async function main(
  earlySignals: EarlySignals | undefined,
): Promise<void> {
  const pkg = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  ) as { version: string };

  const program = new Command('lc-agent')
    .description(
      'Capture logs from files and Docker containers and deliver them to Loki, Kafka, files and more.',
    )
    .version(pkg.version, '-v, --version');
  // Before any command is added: commander copies these settings to each.
  configureUsage(program, process.argv);
  program.addHelpText(
    'after',
    `
Examples:
  $ lc-agent run                           # embedded default: ./logs/**/*.log -> ./data/out, API on 127.0.0.1:8401
  $ lc-agent run --config /etc/lc/agent.yaml
  $ lc-agent validate --config agent.yaml  # prints every error with its path; exit 2 when invalid
  $ lc-agent positions list --config agent.yaml
  $ lc-agent dlq list --config agent.yaml --limit 20
  $ lc-agent dlq replay --config agent.yaml --sink loki
  $ lc-agent buffer inspect ./data/wal
  $ lc-agent schema > lc-agent.schema.json  # JSON Schema for editors

Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error (or data
directory in use), 3 shutdown timed out, 130 forced by a second signal.
Every command, its output and its exit codes: docs/cli.md.`,
  );

  const configOption = () =>
    new Option(
      '-c, --config <file>',
      'YAML config file (default: the embedded config)',
    ).env('LC_CONFIG_FILE');

  program
    .command('run')
    .description(
      'Run the agent until SIGINT/SIGTERM (SIGHUP reloads the config).',
    )
    .addOption(configOption())
    .option(
      '--exit-with-parent',
      'shut down when the process that started the agent exits (env LC_EXIT_WITH_PARENT=1)',
    )
    .action(async (opts: { config?: string; exitWithParent?: boolean }) => {
      // First, before the pipeline's code loads: record the file watches.
      const { openPositionsEarly } =
        await import('./runtime/early-positions.js');
      const early = await openPositionsEarly(opts.config);
      const { runAgent } = await import('./runtime/run-agent.js');
      process.exitCode = await runAgent({
        version: pkg.version,
        early,
        ...(earlySignals === undefined ? {} : { signals: earlySignals }),
        exitWithParent:
          opts.exitWithParent === true ||
          /^(1|true|yes|on)$/i.test(process.env['LC_EXIT_WITH_PARENT'] ?? ''),
        ...(opts.config === undefined ? {} : { configPath: opts.config }),
      });
      // Exit even if a library left a handle open (sockets after a forced stop).
      setTimeout(() => process.exit(), 200).unref();
    });

  // Each command loads what it needs: `run` starts capturing without
  // loading the offline tools (DLQ, buffer, schema), and they without it.
  if (process.argv[2] !== 'run') {
    exitQuietlyOnClosedStdout();
    const { runCommands } = await import('./cli/commands.js');
    runCommands(program, configOption);
  }

  await runProgram(program, process.argv);
}
