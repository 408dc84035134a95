// Public API of @lc/sinks. List exports by name (STYLE.md rule 3).
export { createLokiSink } from './loki-sink.js';
export type { LokiSinkOptions } from './loki-sink.js';
export { createFileSink } from './file-sink.js';
export type { FileRotationOptions, FileSinkOptions } from './file-sink.js';
