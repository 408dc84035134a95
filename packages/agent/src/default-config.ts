/**
 * The configuration `lc-agent run` uses without `--config`: tail
 * `./logs/**\/*.log`, write JSON Lines to `./data/out`, keep positions in
 * `./data/positions.json`, serve the API on 127.0.0.1:8401.
 */
export const DEFAULT_CONFIG_YAML = `# lc-agent embedded default configuration
app:
  name: lc-agent
  log_level: \${LC_LOG_LEVEL:-info}
  data_dir: ./data
api:
  host: 127.0.0.1
  port: 8401
sources:
  files:
    - include: ["./logs/**/*.log"]
      labels:
        job: lc-agent-default
processing:
  pipelines:
    - name: default
      steps:
        - type: level_extract
sinks:
  file:
    - name: out
      directory: ./data/out
      format: json
`;

/** Lines written to `./logs/sample.log` on the first run, so output appears at once. */
export const SAMPLE_LINES: readonly string[] = [
  'INFO lc-agent sample: hello from ./logs/sample.log',
  'WARN lc-agent sample: append lines to any ./logs/**/*.log file and watch ./data/out',
  '{"level":"info","msg":"JSON lines work too","user":"demo"}',
  'ERROR lc-agent sample: metrics are on http://127.0.0.1:8401/metrics',
  'DEBUG lc-agent sample: positions are in ./data/positions.json',
];
