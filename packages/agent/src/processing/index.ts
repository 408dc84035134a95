// Processing-only entry (dist/processing/index.js), used by bench/processing.mjs
// without loading the rest of the agent.
export { createProcessor } from './create-processor.js';
export type {
  Processor,
  ProcessorOptions,
  ProcessorStats,
} from './create-processor.js';
export { createProcessingIntake } from './processing-intake.js';
export { pipelineSchema } from '../config/processing-schema.js';
