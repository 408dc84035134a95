import type { Command, Option } from 'commander';
import { collectSecrets, redactSecrets } from '../config/redact-secrets.js';
import { createSecretScrubber } from '../config/secret-scrubber.js';
import { EXIT_CODES } from '../runtime/exit-codes.js';
import { loadAgentConfig } from '../runtime/load-agent-config.js';
import type { ConfigOptions } from './command-config.js';
import {
  cliIssues,
  printJson,
  printLine,
  printWarnings,
  reportFailure,
  scrubOutputWith,
} from './output.js';

/**
 * `lc-agent validate`: every check `run` makes before it starts (the same
 * function), short of connecting. Exit 0 when `run` would start (warnings
 * allowed), 2 otherwise. `--json`: `{ ok: true, config, warnings }` with
 * every secret redacted, or `{ ok: false, errors, warnings }`.
 */
export function addValidateCommand(
  program: Command,
  configOption: () => Option,
): void {
  program
    .command('validate')
    .description(
      'Check a config as `run` would before it starts (schema, components, paths, globs), without starting or connecting anything; prints every problem with its config key.',
    )
    .addOption(configOption())
    .option(
      '--json',
      'print { ok, config (secrets redacted), warnings } or { ok: false, errors, warnings }',
    )
    .action(async (opts: ConfigOptions) => {
      const where =
        opts.config === undefined ? ' (embedded default)' : `: ${opts.config}`;
      const result = await loadAgentConfig(opts.config);
      if (!result.ok) {
        if (opts.json === true) {
          process.exitCode = EXIT_CODES.config;
          printJson({
            ok: false,
            errors: cliIssues(result.issues),
            warnings: cliIssues(result.warnings),
          });
          return;
        }
        printWarnings(result.warnings);
        reportFailure(
          false,
          EXIT_CODES.config,
          result.issues,
          `invalid configuration${opts.config === undefined ? '' : ` in ${opts.config}`}`,
        );
        return;
      }
      // A secret reused elsewhere (a label, say) is scrubbed there too.
      scrubOutputWith(createSecretScrubber(collectSecrets(result.config)));
      if (opts.json === true) {
        printJson({
          ok: true,
          config: redactSecrets(result.config),
          warnings: cliIssues(result.warnings),
        });
        return;
      }
      printWarnings(result.warnings);
      const n = result.warnings.length;
      printLine(
        `configuration ok${where}${n === 0 ? '' : ` (${n} warning${n === 1 ? '' : 's'})`}`,
      );
    });
}
