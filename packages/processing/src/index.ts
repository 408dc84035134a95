// Public API of @lc/processing. List exports by name (STYLE.md rule 3).
export { createProcessor } from './create-processor.js';
export type {
  Processor,
  ProcessorOptions,
  ProcessorStats,
} from './create-processor.js';
export { createProcessingIntake } from './processing-intake.js';
export { defineStep } from './define-step.js';
export type {
  StepDefinition,
  StepDefinitionInput,
  StepEnvironment,
  StepFunction,
  StepSchema,
} from './define-step.js';
export type { StepContext } from './step-context.js';
export {
  duration,
  durationValue,
  nameList,
  regex,
  section,
  stringMap,
} from './step-options.js';
export { conditionSchema } from './condition-schema.js';
export type { ConditionConfig } from './condition-schema.js';
export {
  createPipelineSchema,
  pipelineSchema,
  STEP_TYPES,
  stepSchema,
} from './pipeline-schema.js';
export type {
  PipelineConfig,
  PipelineInput,
  StepConfig,
  StepInput,
} from './pipeline-schema.js';
export { builtInSteps } from './steps/built-in-steps.js';
export { dropStep } from './steps/drop-step.js';
export { jsonParseStep } from './steps/json-parse-step.js';
export { labelsAddStep } from './steps/labels-add-step.js';
export { labelsRemoveStep } from './steps/labels-remove-step.js';
export { labelsRenameStep } from './steps/labels-rename-step.js';
export { levelExtractStep } from './steps/level-extract-step.js';
export { logfmtParseStep } from './steps/logfmt-parse-step.js';
export { REDACT_RULES, redactStep } from './steps/redact-step.js';
export { regexExtractStep } from './steps/regex-extract-step.js';
export { sampleStep } from './steps/sample-step.js';
export { timestampParseStep } from './steps/timestamp-parse-step.js';
