import { dropStep } from './drop-step.js';
import { jsonParseStep } from './json-parse-step.js';
import { labelsAddStep } from './labels-add-step.js';
import { labelsRemoveStep } from './labels-remove-step.js';
import { labelsRenameStep } from './labels-rename-step.js';
import { levelExtractStep } from './level-extract-step.js';
import { logfmtParseStep } from './logfmt-parse-step.js';
import { redactStep } from './redact-step.js';
import { regexExtractStep } from './regex-extract-step.js';
import { sampleStep } from './sample-step.js';
import { timestampParseStep } from './timestamp-parse-step.js';

/** Every built-in step, in the order the configuration reference lists them. */
export const builtInSteps = [
  jsonParseStep,
  regexExtractStep,
  logfmtParseStep,
  timestampParseStep,
  levelExtractStep,
  labelsAddStep,
  labelsRemoveStep,
  labelsRenameStep,
  redactStep,
  dropStep,
  sampleStep,
] as const;
