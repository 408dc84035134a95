/**
 * Decodes OTLP logs requests with the OFFICIAL OpenTelemetry protocol
 * definitions: the protobufjs code that `@opentelemetry/otlp-transformer`
 * 0.214.0 generated from opentelemetry-proto (dev dependency only). It is
 * independent of @lc/sinks' hand-written encoder, so a round trip through
 * it checks the encoder against the spec's schema.
 */
import { createRequire } from 'node:module';

/** The protobufjs static-code surface used here. */
interface MessageType {
  decode(bytes: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
  fromObject(object: object): object;
  toObject(
    message: object,
    options: Record<string, unknown>,
  ): Record<string, unknown>;
}

interface OtlpRoot {
  opentelemetry: {
    proto: {
      collector: {
        logs: {
          v1: {
            ExportLogsServiceRequest: MessageType;
            ExportLogsServiceResponse: MessageType;
          };
        };
      };
    };
  };
}

const root = createRequire(import.meta.url)(
  '@opentelemetry/otlp-transformer/build/src/generated/root.js',
) as OtlpRoot;

/** `opentelemetry.proto.collector.logs.v1` from the official definitions. */
export const otlpLogsService = root.opentelemetry.proto.collector.logs.v1;

/** One decoded log record, with its resource, in plain values. */
export interface DecodedOtlpRecord {
  /** Resource attributes (non-string values as JSON text). */
  readonly resource: Record<string, string>;
  /** Decimal epoch nanoseconds. */
  readonly timeUnixNano: string;
  readonly observedTimeUnixNano: string;
  readonly severityNumber: number;
  readonly severityText: string;
  /** The body's string value (non-string bodies as JSON text). */
  readonly body: string | undefined;
  /** Log attributes (non-string values as JSON text). */
  readonly attributes: Record<string, string>;
  /** Attribute keys in wire order (duplicates visible). */
  readonly attributeKeys: string[];
  /** Lower-case hex; '' when absent. */
  readonly traceId: string;
  readonly spanId: string;
  readonly flags: number;
}

/** One ResourceLogs: its resource and its records (all scopes). */
export interface DecodedOtlpResourceLogs {
  readonly resource: Record<string, string>;
  readonly records: DecodedOtlpRecord[];
}

type Obj = Record<string, unknown>;

function anyValue(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value as Obj;
  if (typeof v.stringValue === 'string') return v.stringValue;
  return JSON.stringify(v);
}

function attributes(list: unknown): {
  map: Record<string, string>;
  keys: string[];
} {
  const pairs: Array<[string, string]> = [];
  for (const kv of (list as Obj[] | undefined) ?? [])
    pairs.push([String(kv.key ?? ''), anyValue(kv.value) ?? '']);
  return { map: Object.fromEntries(pairs), keys: pairs.map(([k]) => k) };
}

function hex(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.toLowerCase();
  return Buffer.from(value as Uint8Array).toString('hex');
}

/**
 * A fixed64 as decimal text. protobufjs' fromObject marks fixed64 Longs
 * signed, so values past 2^63 print negative; reinterpret as unsigned.
 */
function fixed64(value: unknown): string {
  return BigInt.asUintN(64, BigInt(String(value ?? '0'))).toString();
}

function normalize(request: Obj): DecodedOtlpResourceLogs[] {
  const out: DecodedOtlpResourceLogs[] = [];
  for (const rl of (request.resourceLogs as Obj[] | undefined) ?? []) {
    const resource = attributes(
      (rl.resource as Obj | undefined)?.attributes,
    ).map;
    const records: DecodedOtlpRecord[] = [];
    for (const sl of (rl.scopeLogs as Obj[] | undefined) ?? []) {
      for (const lr of (sl.logRecords as Obj[] | undefined) ?? []) {
        const attrs = attributes(lr.attributes);
        records.push({
          resource,
          timeUnixNano: fixed64(lr.timeUnixNano),
          observedTimeUnixNano: fixed64(lr.observedTimeUnixNano),
          severityNumber: Number(lr.severityNumber ?? 0),
          severityText: String(lr.severityText ?? ''),
          body: anyValue(lr.body),
          attributes: attrs.map,
          attributeKeys: attrs.keys,
          traceId: hex(lr.traceId),
          spanId: hex(lr.spanId),
          flags: Number(lr.flags ?? 0),
        });
      }
    }
    out.push({ resource, records });
  }
  return out;
}

const TO_OBJECT = { longs: String, enums: Number };

/** Decode a protobuf `ExportLogsServiceRequest` (throws when malformed). */
export function decodeOtlpProtobuf(
  body: Uint8Array,
): DecodedOtlpResourceLogs[] {
  const T = otlpLogsService.ExportLogsServiceRequest;
  return normalize(T.toObject(T.decode(body), TO_OBJECT));
}

/** Paths of keys in `input` that the official schema does not know. */
function unknownKeys(input: unknown, known: unknown, path: string): string[] {
  if (Array.isArray(input)) {
    const k = Array.isArray(known) ? known : [];
    return input.flatMap((v, i) => unknownKeys(v, k[i], `${path}[${i}]`));
  }
  if (typeof input !== 'object' || input === null) return [];
  const k = (typeof known === 'object' && known !== null ? known : {}) as Obj;
  return Object.entries(input as Obj).flatMap(([key, v]) =>
    Object.hasOwn(k, key)
      ? unknownKeys(v, k[key], `${path}.${key}`)
      : [`${path}.${key}`],
  );
}

/** OTLP/JSON ids are hex; protobufjs' fromObject wants base64. */
function idsToBase64(request: Obj, problems: string[]): void {
  ((request.resourceLogs as Obj[] | undefined) ?? []).forEach((rl, i) =>
    ((rl.scopeLogs as Obj[] | undefined) ?? []).forEach((sl, j) =>
      ((sl.logRecords as Obj[] | undefined) ?? []).forEach((lr, k) => {
        for (const field of ['traceId', 'spanId']) {
          const v = lr[field];
          if (v === undefined) continue;
          if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(v))
            problems.push(
              `resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}].${field} is not hex: ${JSON.stringify(v)}`,
            );
          else lr[field] = Buffer.from(v, 'hex').toString('base64');
        }
        if (
          lr.severityNumber !== undefined &&
          typeof lr.severityNumber !== 'number'
        )
          problems.push(
            `resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}].severityNumber must be an integer in OTLP/JSON`,
          );
        for (const field of ['timeUnixNano', 'observedTimeUnixNano']) {
          const v = lr[field];
          if (v !== undefined && !/^\d+$/.test(String(v)))
            problems.push(
              `resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}].${field} is not decimal nanoseconds: ${JSON.stringify(v)}`,
            );
        }
      }),
    ),
  );
}

/**
 * Decode an OTLP/JSON `ExportLogsServiceRequest` strictly: unknown field
 * names, non-hex ids, enum names instead of integers and non-decimal
 * timestamps throw, naming the path.
 */
export function decodeOtlpJson(text: string): DecodedOtlpResourceLogs[] {
  const T = otlpLogsService.ExportLogsServiceRequest;
  const input = JSON.parse(text) as Obj;
  const copy = JSON.parse(text) as Obj;
  const problems: string[] = [];
  idsToBase64(copy, problems);
  const message = T.fromObject(copy);
  const known = T.toObject(message, {
    ...TO_OBJECT,
    defaults: true,
    arrays: true,
  });
  problems.push(
    ...unknownKeys(input, known, '$').map((p) => `unknown field ${p}`),
  );
  if (problems.length > 0) throw new Error(problems.join('; '));
  return normalize(T.toObject(message, TO_OBJECT));
}
