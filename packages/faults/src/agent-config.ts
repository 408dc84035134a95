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
  /**
   * `persistence.mode: always` (every batch in the WAL before it is sent);
   * unset keeps the agent's default (the WAL on, written on failure).
   */
  readonly wal?: boolean;
  /**
   * `dispatcher.batch_max_records`; unset keeps the agent's default (1000).
   * Only the reload scenario changes it, to make reloads change something.
   */
  readonly batchMaxRecords?: number;
  /** Extra static label on every record (changes across reloads). */
  readonly generation?: number;
  /** `dispatcher.spill` keys to set (the disk buffer; defaults otherwise). */
  readonly spill?: { readonly maxBytes?: string; readonly whenFull?: string };
  /**
   * Read `pods/` (the kubelet's pod logs, links in `containers/`) with
   * `sources.kubernetes` instead of `logs/` with a file group.
   */
  readonly kubernetes?: boolean;
}

/**
 * An `lc-agent` YAML config: file source `logs/**\/*.log` → one sink, at the
 * agent's default settings (batching, flush, polling, positions), as users
 * run it. Only what a scenario needs is set: paths, a random API port, the
 * sink, and the WAL where a scenario is about it.
 */
export function agentConfig(o: AgentConfigOptions): string {
  const template =
    o.kubernetes === true ? '{label:pod}.jsonl' : '{file_name}.jsonl';
  let sinks = `sinks:\n  file: [{name: out, directory: ${o.root}/out, path_template: "${template}"}]\n`;
  if (o.lokiUrl !== undefined)
    sinks = `sinks:\n  loki: [{name: loki, url: "${o.lokiUrl}", timeout: 5s}]\n`;
  if (o.kafkaBroker !== undefined)
    sinks = `sinks:\n  kafka: [{name: kafka, brokers: ["${o.kafkaBroker}"], topic: ${o.kafkaTopic ?? 'faults'}, format: text, timeout: 5s}]\n`;
  const keys: string[] = [];
  if (o.batchMaxRecords !== undefined)
    keys.push(`batch_max_records: ${o.batchMaxRecords}`);
  if (o.spill !== undefined) {
    const spill: string[] = [];
    if (o.spill.maxBytes !== undefined)
      spill.push(`max_bytes: ${o.spill.maxBytes}`);
    if (o.spill.whenFull !== undefined)
      spill.push(`when_full: ${o.spill.whenFull}`);
    keys.push(`spill: {${spill.join(', ')}}`);
  }
  const dispatcher =
    keys.length === 0 ? '' : `dispatcher: {${keys.join(', ')}}\n`;
  const wal = o.wal === true ? 'persistence: {mode: always}\n' : '';
  const labels = `{job: faults, gen: "g${o.generation ?? 0}"}`;
  const sources =
    o.kubernetes === true
      ? `  kubernetes: {enabled: true, root: ${o.root}/pods, containers_dir: ${o.root}/containers, labels: ${labels}}`
      : `  files: [{include: ["${o.root}/logs/**/*.log"], labels: ${labels}}]`;
  return `app: {data_dir: ${o.root}/data, log_level: info}
api: {port: 0}
sources:
${sources}
${dispatcher}${wal}${sinks}`;
}

/**
 * The agent's in-flight window at default settings: (workers + 1) ×
 * batch_max_records, the intake bound. After a SIGKILL at most this many
 * lines can have been sent and not yet acknowledged and committed, so at
 * most this many are sent again per kill.
 */
export const DEFAULT_IN_FLIGHT_LINES = (4 + 1) * 1000;
