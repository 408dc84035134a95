/** What {@link agentConfig} puts in the YAML. */
export interface AgentConfigOptions {
  /** Scenario root: `logs/`, `out/`, `data/` live under it. */
  readonly root: string;
  /** Loki push URL; when set the sink is Loki instead of the file sink. */
  readonly lokiUrl?: string;
  /** Kafka `host:port`; when set the sink is Kafka. */
  readonly kafkaBroker?: string;
  /** Kafka topic. @default 'faults' */
  readonly kafkaTopic?: string;
  /** Enable the WAL (`persistence.enabled`). @default false */
  readonly wal?: boolean;
  /** `dispatcher.batch_max_records`. @default 200 */
  readonly batchMaxRecords?: number;
  /** Extra static label on every record (changes across reloads). */
  readonly generation?: number;
}

/** An `lc-agent` YAML config: file source `logs/**\/*.log` → one sink. */
export function agentConfig(o: AgentConfigOptions): string {
  let sinks = `sinks:\n  file: [{name: out, directory: ${o.root}/out, path_template: "{file_name}.jsonl"}]\n`;
  if (o.lokiUrl !== undefined)
    sinks = `sinks:\n  loki: [{name: loki, url: "${o.lokiUrl}", timeout: 5s}]\n`;
  if (o.kafkaBroker !== undefined)
    sinks = `sinks:\n  kafka: [{name: kafka, brokers: ["${o.kafkaBroker}"], topic: ${o.kafkaTopic ?? 'faults'}, format: text, timeout: 5s}]\n`;
  return `app: {data_dir: ${o.root}/data, log_level: info}
api: {port: 0}
sources:
  files: [{include: ["${o.root}/logs/**/*.log"], poll_interval: 250ms, labels: {job: faults, gen: "g${o.generation ?? 0}"}}]
dispatcher: {batch_timeout: 100ms, batch_max_records: ${o.batchMaxRecords ?? 200}}
positions: {flush_interval: 100ms}
persistence: {enabled: ${o.wal === true}}
${sinks}`;
}
