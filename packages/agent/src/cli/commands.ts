import type { Command, Option } from 'commander';
import { addBufferCommand } from './buffer-command.js';
import { addDlqCommands } from './dlq-commands.js';
import { addPositionsCommand } from './positions-command.js';
import { addSchemaCommand } from './schema-command.js';
import { addValidateCommand } from './validate-command.js';

export { configJsonSchema } from './schema-command.js';

/** Register validate, schema, positions, dlq and buffer commands. */
export function runCommands(
  program: Command,
  configOption: () => Option,
): void {
  addValidateCommand(program, configOption);
  addSchemaCommand(program);
  addPositionsCommand(program, configOption);
  addDlqCommands(program, configOption);
  addBufferCommand(program);
}
