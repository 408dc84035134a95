// Public API of @lc/monitors. List exports by name (STYLE.md rule 3).
export { createContainerMonitor } from './container/container-monitor.js';
export type {
  ContainerMonitor,
  ContainerStatus,
} from './container/container-monitor.js';
export type {
  ContainerFilters,
  ContainerMonitorOptions,
  ContainerPositions,
  FeedbackGuardOptions,
} from './container/container-monitor-options.js';
export { DockerLogParser } from './container/docker-log-parser.js';
export type {
  ContainerStreamName,
  DockerLogEntry,
} from './container/docker-log-parser.js';
export {
  ContainerLineAssembler,
  START_CURSOR,
} from './container/line-assembler.js';
export type {
  AssembledLine,
  LineAssemblerOptions,
} from './container/line-assembler.js';
