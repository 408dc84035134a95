import { createRequire } from 'node:module';

/** The npm package of the librdkafka client (an optional dependency). */
export const RDKAFKA_PACKAGE = '@confluentinc/kafka-javascript';

/** librdkafka property values as the binding takes them. */
export type RdKafkaConfig = Record<string, string | number | boolean>;

/**
 * Message headers as the binding takes them: one single-key object per
 * header (it reads the first own key of each).
 */
export type RdKafkaHeaders = ReadonlyArray<Readonly<Record<string, Buffer>>>;

/** A delivery report as the binding emits it (`dr_cb`, no payload). */
export interface RdKafkaDeliveryReport {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly opaque?: unknown;
}

/** A librdkafka error as the binding creates it (`LibrdKafkaError`). */
export interface RdKafkaError extends Error {
  readonly code: number;
  readonly origin?: string;
  readonly isFatal?: boolean;
  readonly isRetriable?: boolean;
}

/** A librdkafka log line (`event.log`). */
export interface RdKafkaLog {
  readonly severity: number;
  readonly fac: string;
  readonly message: string;
}

/**
 * The part of the binding's rdkafka-style `Producer` lc uses. Typed here so
 * that lc compiles where the optional package is not installed.
 */
export interface RdKafkaNativeProducer {
  connect(
    options: { timeout?: number; allTopics?: boolean },
    cb: (error: RdKafkaError | null) => void,
  ): unknown;
  produce(
    topic: string,
    partition: number | null,
    value: Buffer | null,
    key: Buffer | null | undefined,
    timestampMs: number,
    opaque: unknown,
    headers: RdKafkaHeaders | undefined,
  ): unknown;
  setPollInBackground(on: boolean): unknown;
  flush(timeoutMs: number, cb: (error: RdKafkaError | null) => void): unknown;
  disconnect(timeoutMs: number, cb: (error: unknown) => void): unknown;
  isConnected(): boolean;
  on(
    event: 'delivery-report',
    listener: (
      error: RdKafkaError | null,
      report: RdKafkaDeliveryReport,
    ) => void,
  ): unknown;
  on(event: 'event.error', listener: (error: RdKafkaError) => void): unknown;
  on(event: 'event.log', listener: (log: RdKafkaLog) => void): unknown;
}

/** The module, as far as lc uses it. */
export interface RdKafkaModule {
  readonly librdkafkaVersion: string;
  readonly features: readonly string[];
  readonly Producer: new (
    config: RdKafkaConfig,
    topicConfig?: RdKafkaConfig,
  ) => RdKafkaNativeProducer;
}

/** The outcome of loading the binding. */
export type RdKafkaLoad =
  | { readonly ok: true; readonly module: RdKafkaModule }
  | { readonly ok: false; readonly reason: string };

const require = createRequire(import.meta.url);
let loaded: RdKafkaLoad | undefined;

/**
 * Load the native client once (it costs memory and starts nothing until a
 * producer is built). Never throws: a missing package or a native module
 * that did not build comes back as a reason.
 */
export function loadRdKafka(): RdKafkaLoad {
  if (loaded !== undefined) return loaded;
  try {
    const module = require(RDKAFKA_PACKAGE) as RdKafkaModule;
    if (typeof module.Producer !== 'function')
      throw new Error(`${RDKAFKA_PACKAGE} has no Producer export`);
    loaded = { ok: true, module };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const reason =
      e.code === 'MODULE_NOT_FOUND' &&
      (e.message ?? '').includes(`'${RDKAFKA_PACKAGE}'`)
        ? `${RDKAFKA_PACKAGE} is not installed`
        : `${RDKAFKA_PACKAGE} did not load: ${(e.message ?? String(error)).split('\n')[0]}`;
    loaded = { ok: false, reason };
  }
  return loaded;
}

/** How to get the native client, for error messages. */
export const RDKAFKA_INSTALL_HINT = `install ${RDKAFKA_PACKAGE}@1.10.1 (npm fetches a prebuilt binary where it can; to build it from source: apt-get install -y build-essential python3 libssl-dev zlib1g-dev libzstd-dev liblz4-dev, then CKJS_LINKING=dynamic npm install ${RDKAFKA_PACKAGE}@1.10.1), or use client kafkajs`;
