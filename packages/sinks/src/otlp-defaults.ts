/**
 * Defaults of the OTLP sink's mapping, documented in packages/sinks/README.md
 * ("How records are mapped"); the agent's config schema uses them as its
 * defaults too. Exported so a caller can extend them
 * (`{ ...OTLP_DEFAULTS.resourceLabels, app: 'service.name' }`).
 */

/**
 * Labels that form the resource, renamed to OpenTelemetry semantic
 * convention names. Order is precedence: the first label present for a
 * name wins, later ones stay log attributes.
 */
const DEFAULT_RESOURCE_LABELS: Readonly<Record<string, string>> = Object.freeze(
  {
    service_name: 'service.name',
    'service.name': 'service.name',
    compose_service: 'service.name',
    job: 'service.name',
    service_namespace: 'service.namespace',
    service_version: 'service.version',
    host: 'host.name',
    hostname: 'host.name',
    instance: 'host.name',
    k8s_namespace_name: 'k8s.namespace.name',
    namespace: 'k8s.namespace.name',
    k8s_pod_name: 'k8s.pod.name',
    pod: 'k8s.pod.name',
    k8s_container_name: 'k8s.container.name',
    container: 'k8s.container.name',
    k8s_node_name: 'k8s.node.name',
    node: 'k8s.node.name',
    container_name: 'container.name',
    container_id: 'container.id',
    image: 'container.image.name',
  },
);

/**
 * Log attribute renames: lc's own source labels to the names the
 * OpenTelemetry Collector's filelog receiver uses.
 */
const DEFAULT_ATTRIBUTE_NAMES: Readonly<Record<string, string>> = Object.freeze(
  {
    file_path: 'log.file.path',
    file_name: 'log.file.name',
    stream: 'log.iostream',
  },
);

/** Keys (metadata first, then labels) holding the level text. */
const DEFAULT_SEVERITY_KEYS: readonly string[] = Object.freeze([
  'level',
  'severity',
  'severity_text',
  'log_level',
  'loglevel',
  'lvl',
]);

/** Keys holding a hex trace id (32 digits). */
const DEFAULT_TRACE_ID_KEYS: readonly string[] = Object.freeze([
  'trace_id',
  'traceid',
  'traceId',
  'trace.id',
]);

/** Keys holding a hex span id (16 digits). */
const DEFAULT_SPAN_ID_KEYS: readonly string[] = Object.freeze([
  'span_id',
  'spanid',
  'spanId',
  'span.id',
]);

/** Keys holding a W3C `traceparent`. */
const DEFAULT_TRACEPARENT_KEYS: readonly string[] = Object.freeze([
  'traceparent',
]);

/** The OTLP sink's mapping defaults (see `OtlpSinkOptions`). */
export const OTLP_DEFAULTS = Object.freeze({
  /** Label → resource attribute name, in precedence order. */
  resourceLabels: DEFAULT_RESOURCE_LABELS,
  /** Label/metadata → log attribute renames. */
  attributeNames: DEFAULT_ATTRIBUTE_NAMES,
  /** Keys holding the level. */
  severityKeys: DEFAULT_SEVERITY_KEYS,
  /** Keys holding a hex trace id. */
  traceIdKeys: DEFAULT_TRACE_ID_KEYS,
  /** Keys holding a hex span id. */
  spanIdKeys: DEFAULT_SPAN_ID_KEYS,
  /** Keys holding a W3C traceparent. */
  traceparentKeys: DEFAULT_TRACEPARENT_KEYS,
});
