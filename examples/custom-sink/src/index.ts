export { createAppendSink } from './append-sink.js';
export { createSink } from './create-sink.js';
