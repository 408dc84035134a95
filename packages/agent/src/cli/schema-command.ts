import type { Command } from 'commander';
import { z } from 'zod';
import { configSchema } from '../config/schema.js';
import { printJson } from './output.js';

/** `lc-agent schema`: the JSON Schema of the config file, for editors. */
export function addSchemaCommand(program: Command): void {
  program
    .command('schema')
    .description('Print the JSON Schema of the config file (for editors).')
    .action(() => printJson(configJsonSchema()));
}

/** JSON Schema of the config file (input form: durations and sizes as strings). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
}
