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
export { createDockerFilesMonitor } from './docker-files/docker-files-monitor.js';
export type { DockerFilesMonitor } from './docker-files/docker-files-monitor.js';
export type { DockerFilesMonitorOptions } from './docker-files/docker-files-monitor-options.js';
export { createFileMonitor } from './file/file-monitor.js';
export { globSyntaxError } from './file/glob-syntax-error.js';
export {
  FILE_WATCH_KIND,
  fileWatchSince,
  recordFileWatches,
} from './file/record-file-watches.js';
export type { FileWatchTracker } from './file/record-file-watches.js';
export type { FileMonitor } from './file/file-monitor.js';
export type {
  FileEncoding,
  FileMonitorOptions,
  FilePositionTracker,
  FileResetReason,
  LongLinePolicy,
  StartPosition,
} from './file/file-monitor-options.js';
export type { FileState, FileStatus } from './file/file-status.js';
export { MULTILINE_PRESETS } from './multiline/multiline-options.js';
export type {
  MultilineOptions,
  MultilinePreset,
} from './multiline/multiline-options.js';
export { createMultilineJoiner } from './multiline/multiline-joiner.js';
export type {
  JoinableLine,
  JoinedRecord,
  MultilineFlushReason,
  MultilineJoiner,
} from './multiline/multiline-joiner.js';
export { createMultilineStreams } from './multiline/multiline-streams.js';
export type {
  MultilineStreams,
  MultilineStreamsOptions,
  StreamLine,
  StreamRecord,
} from './multiline/multiline-streams.js';
export { createKubernetesMonitor } from './kubernetes/kubernetes-monitor.js';
export type { KubernetesMonitor } from './kubernetes/kubernetes-monitor.js';
export { kubernetesIncludeGlobs } from './kubernetes/kubernetes-monitor-options.js';
export type {
  KubernetesFileMetadata,
  KubernetesFilter,
  KubernetesMetadataLookup,
  KubernetesMonitorOptions,
  KubernetesPodRef,
} from './kubernetes/kubernetes-monitor-options.js';
export { createKubernetesPodMetadata } from './kubernetes/metadata/kubernetes-pod-metadata.js';
export type {
  KubernetesApiState,
  KubernetesPodMetadata,
  KubernetesPodMetadataStatus,
} from './kubernetes/metadata/kubernetes-pod-metadata.js';
export {
  DEFAULT_EXCLUDE_ANNOTATION,
  DEFAULT_POD_LABELS,
  SERVICE_ACCOUNT_DIR,
} from './kubernetes/metadata/kubernetes-pod-metadata-options.js';
export type { KubernetesPodMetadataOptions } from './kubernetes/metadata/kubernetes-pod-metadata-options.js';
export { parseCriLine } from './kubernetes/cri-parser.js';
export type { CriLine, CriStream } from './kubernetes/cri-parser.js';
export {
  parseContainerLogLink,
  parsePodLogPath,
  podLogKey,
} from './kubernetes/pod-log-path.js';
export type { ContainerLogLink, PodLogRef } from './kubernetes/pod-log-path.js';
