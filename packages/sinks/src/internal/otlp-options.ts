import { LcError } from '@lc/core';
import type { OtlpSinkOptions } from '../otlp-sink.js';
import { OTLP_DEFAULTS } from '../otlp-defaults.js';
import type { OtlpMappingOptions } from './otlp-mapping.js';
import { invalidOption, requireUrl, validatePositive } from './validate.js';

const FACTORY = 'createOtlpSink';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/** Appended to `endpoint` (OTLP/HTTP default path for logs). */
const LOGS_PATH = 'v1/logs';

/** {@link OtlpSinkOptions} validated, defaults applied. */
export interface ResolvedOtlpOptions {
  readonly name: string;
  /** Where requests go. */
  readonly url: URL;
  readonly encoding: 'protobuf' | 'json';
  readonly gzip: boolean;
  readonly timeoutMs: number;
  readonly maxRequestBytes: number;
  readonly partialSuccess: 'log' | 'dlq';
  readonly mapping: OtlpMappingOptions;
}

/**
 * The logs URL: `logsEndpoint` as is (an empty path becomes `/`), or
 * `endpoint` with `v1/logs` appended to its path, the rule of the OTel
 * `OTEL_EXPORTER_OTLP_ENDPOINT` / `…_LOGS_ENDPOINT` variables.
 */
export function resolveLogsUrl(
  endpoint: string | undefined,
  logsEndpoint: string | undefined,
): URL {
  if ((endpoint === undefined) === (logsEndpoint === undefined)) {
    throw new LcError({
      code: 'LC_ERR_INVALID_OPTION',
      message: `${FACTORY}: give exactly one of endpoint (base URL, /v1/logs is appended) and logsEndpoint (full URL), got ${endpoint === undefined ? 'neither' : 'both'}`,
      details: { option: 'endpoint' },
    });
  }
  if (logsEndpoint !== undefined)
    return requireUrl(FACTORY, 'logsEndpoint', logsEndpoint);
  const url = requireUrl(FACTORY, 'endpoint', endpoint as string);
  url.pathname = `${url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`}${LOGS_PATH}`;
  return url;
}

function stringMap(
  option: string,
  value: Readonly<Record<string, string>> | undefined,
  fallback: Readonly<Record<string, string>>,
): Array<[string, string]> {
  if (value === undefined) return Object.entries(fallback);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalidOption(FACTORY, option, 'an object of strings', value);
  const entries = Object.entries(value);
  for (const [k, v] of entries)
    if (typeof v !== 'string' || k === '')
      invalidOption(FACTORY, `${option}.${k}`, 'a string', v);
  return entries;
}

function keyList(
  option: string,
  value: readonly string[] | undefined,
  fallback: readonly string[],
): readonly string[] {
  if (value === undefined) return fallback;
  if (
    !Array.isArray(value) ||
    value.some((v) => typeof v !== 'string' || v === '')
  )
    invalidOption(FACTORY, option, 'an array of non-empty strings', value);
  return [...value];
}

function oneOf<T extends string>(
  option: string,
  value: T | undefined,
  allowed: readonly T[],
): T {
  const v = value ?? (allowed[0] as T);
  if (!allowed.includes(v))
    invalidOption(
      FACTORY,
      option,
      allowed.map((a) => `'${a}'`).join(' or '),
      v,
    );
  return v;
}

/** Validate options (throwing `LC_ERR_INVALID_OPTION`) and apply defaults. */
export function resolveOtlpOptions(
  options: OtlpSinkOptions,
): ResolvedOtlpOptions {
  const url = resolveLogsUrl(options.endpoint, options.logsEndpoint);
  const resourceLabels = stringMap(
    'resourceLabels',
    options.resourceLabels,
    OTLP_DEFAULTS.resourceLabels,
  );
  for (const [label, name] of resourceLabels)
    if (name === '')
      invalidOption(
        FACTORY,
        `resourceLabels.${label}`,
        'a non-empty attribute name',
        name,
      );
  return {
    name: options.name ?? 'otlp',
    url,
    encoding: oneOf('encoding', options.encoding, ['protobuf', 'json']),
    gzip:
      oneOf('compression', options.compression, ['gzip', 'none']) === 'gzip',
    timeoutMs: validatePositive(
      FACTORY,
      'requestTimeoutMs',
      options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    ),
    maxRequestBytes: validatePositive(
      FACTORY,
      'maxRequestBytes',
      options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    ),
    partialSuccess: oneOf('partialSuccess', options.partialSuccess, [
      'log',
      'dlq',
    ]),
    mapping: {
      resourceLabels,
      resourceAttributes: stringMap(
        'resourceAttributes',
        options.resourceAttributes,
        {},
      ),
      attributeNames: new Map(
        stringMap(
          'attributeNames',
          options.attributeNames,
          OTLP_DEFAULTS.attributeNames,
        ),
      ),
      severityKeys: keyList(
        'severityKeys',
        options.severityKeys,
        OTLP_DEFAULTS.severityKeys,
      ),
      traceIdKeys: keyList(
        'traceIdKeys',
        options.traceIdKeys,
        OTLP_DEFAULTS.traceIdKeys,
      ),
      spanIdKeys: keyList(
        'spanIdKeys',
        options.spanIdKeys,
        OTLP_DEFAULTS.spanIdKeys,
      ),
      traceparentKeys: keyList(
        'traceparentKeys',
        options.traceparentKeys,
        OTLP_DEFAULTS.traceparentKeys,
      ),
    },
  };
}
