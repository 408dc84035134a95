// Public API of @lc/dispatcher. List exports by name (STYLE.md rule 3).
export { createDispatcher } from './create-dispatcher.js';
export type {
  Dispatcher,
  DispatcherShutdown,
  DispatcherStats,
  RouteStats,
  SinkStats,
} from './dispatcher.js';
export type {
  CircuitOptions,
  DedupOptions,
  DispatcherOptions,
  DropPolicy,
  RateLimitOptions,
  RetryOptions,
  RouteOptions,
  SinkDispatchOptions,
  SpillOptions,
} from './dispatcher-options.js';
export type { CircuitState } from './internal/circuit-breaker.js';
