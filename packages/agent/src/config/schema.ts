import { z } from 'zod';
import { DEFAULT_DATA_DIR } from './defaults.js';
import { pipelineSchema } from '@lc/processing';
import { kubernetesSource } from './kubernetes-schema.js';
import { multilineSchema } from './multiline-schema.js';
import { sinksSchema } from './sinks-schema.js';
import {
  duration,
  durationValue,
  flag,
  positiveInt,
  section,
  size,
  sizeValue,
  stringMap,
} from './schema-helpers.js';

const MiB = 1024 * 1024;

const port = (defaultPort: number, description: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(defaultPort)
    .describe(description);

const fileSource = section({
  include: z
    .array(z.string().min(1))
    .min(1)
    .describe('Globs of files to tail.'),
  exclude: z.array(z.string()).default([]).describe('Globs to skip.'),
  labels: stringMap('Labels added to every record.'),
  start_at: z
    .enum(['beginning', 'end', 'recent'])
    .default('beginning')
    .describe(
      'Where files present at startup without a saved position start (recent: the last recent_bytes, from a line start).',
    ),
  new_file_start_at: z
    .enum(['beginning', 'end'])
    .default('beginning')
    .describe('Where files discovered later without a saved position start.'),
  recent_bytes: size(64 * 1024, 'How far back start_at: recent starts.'),
  rescan_interval: duration(
    1000,
    'Full rescan of the globs and stat of every file (fs.watch finds most changes sooner, but fast rename rotation needs the rescan: see docs/reliability.md).',
  ),
  poll_interval: duration(
    250,
    'How often recently written files are checked without waiting for an event.',
  ),
  max_idle_poll_interval: duration(
    60_000,
    'Longest wait between two checks (stat) of an idle file without an fs.watch event: an idle file is checked again after half the time it has been idle (at least poll_interval), at most this long. Events read a file that grows again at once; this bounds how late growth, truncation or rotation is noticed when no event comes (inotify overflow, network filesystems, watch: false). 10,000 idle files cost 10,000 / this stats a second.',
  ),
  watch: flag(
    true,
    'Use fs.watch on directories for fast discovery and reads.',
  ),
  watch_delay: duration(
    250,
    'How long a read woken by fs.watch waits for more writes to gather (one pass per window, not one per write); adds at most this much latency.',
  ),
  max_depth: positiveInt(
    16,
    'Directory levels below a glob base that ** descends.',
  ),
  include_hidden: flag(false, 'Match names starting with a dot.'),
  follow_symlinks: flag(true, 'Follow symlinks (each target once).'),
  max_files: positiveInt(
    100_000,
    'Most files tracked (excess counted and logged).',
  ),
  max_open_files: positiveInt(
    1024,
    'Most file descriptors held at once (keep well under `ulimit -n`).',
  ),
  idle_close: duration(
    60_000,
    'Close a file after this long without growth; reopened when it changes.',
  ),
  max_line_bytes: size(256 * 1024, 'Longest line kept.'),
  long_line_policy: z
    .enum(['truncate', 'skip'])
    .default('truncate')
    .describe(
      'Longer lines are truncated or skipped (counted); reading goes on.',
    ),
  encoding: z
    .enum(['utf8', 'utf16le', 'latin1'])
    .default('utf8')
    .describe('File encoding; invalid bytes become U+FFFD (counted).'),
  partial_line_flush: duration(
    1000,
    'How long an unterminated last line of a rotated or deleted file waits before it is emitted.',
  ),
  rotated_file_grace: duration(
    5000,
    'How long a renamed-away file stays open to drain late writes.',
  ),
  multiline: multilineSchema,
  read_compressed: flag(
    true,
    'Read .gz files decompressed, once: the ones the globs match, and the .gz of a file compressed before it was read to its end (logrotate compress without delaycompress; found next to it, whatever the globs). A .gz is known by its decompressed content, so it is read only from where the file it holds was read up to (app.log.1 -> app.log.1.gz: not again), and a restart does not read a finished .gz again. Truncated or corrupt archives deliver everything before the damage and are reported. false: no .gz is ever read.',
  ),
});

const dockerSource = section({
  enabled: flag(false, 'Capture container logs.'),
  mode: z
    .enum(['files', 'api'])
    .optional()
    .describe(
      'files: read json-file logs from <data_root>/containers (fast; containers removed at exit lose nothing; other log drivers are streamed through the API when the socket is there). api: stream every container through the engine API (remote engines, no access to the data root). Unset: files when <data_root>/containers is readable, else api (the start log says which and why).',
    ),
  data_root: z
    .string()
    .min(1)
    .default('/var/lib/docker')
    .describe(
      "Docker's data root (docker info --format '{{.DockerRootDir}}'), read in files mode.",
    ),
  socket: z
    .string()
    .default('/var/run/docker.sock')
    .describe('Docker socket path.'),
  include_names: z
    .array(z.string())
    .default([])
    .describe('Container name globs to capture (empty: all).'),
  exclude_names: z
    .array(z.string())
    .default([])
    .describe('Container name globs to skip.'),
  include_images: z
    .array(z.string())
    .default([])
    .describe('Image globs to capture (empty: all).'),
  include_labels: z
    .array(z.string())
    .default([])
    .describe(
      'Container labels ("key" or "key=value") that must all be present.',
    ),
  exclude_labels: z
    .array(z.string())
    .default([])
    .describe(
      'Container labels ("key" or "key=value"); any present skips the container.',
    ),
  labels: stringMap('Labels added to every record.'),
  max_concurrent_streams: positiveInt(50, 'Concurrent log streams.'),
  multiline: multilineSchema,
});

/** The agent configuration schema (YAML, snake_case keys). */
export const configSchema = section({
  app: section({
    name: z
      .string()
      .min(1)
      .default('lc-agent')
      .describe('Instance name (label on metrics).'),
    log_level: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info')
      .describe('Agent log level.'),
    log_format: z
      .enum(['auto', 'json', 'pretty'])
      .default('auto')
      .describe(
        'Agent log format: JSON lines, or one human line per entry; auto = pretty when stderr is a terminal, JSON otherwise.',
      ),
    data_dir: z
      .string()
      .default(DEFAULT_DATA_DIR)
      .describe('Base directory for positions, WAL and DLQ.'),
    self_capture_guard: flag(
      true,
      "Never capture the agent's own outputs (file sink directories, data_dir).",
    ),
  }).prefault({}),
  api: section({
    enabled: flag(true, 'Serve the HTTP API.'),
    host: z.string().default('127.0.0.1').describe('Bind address.'),
    port: port(8401, 'Bind port (0 = any free port).'),
    token: z
      .string()
      .optional()
      .describe(
        'Bearer token required on every endpoint but /health, /ready and /metrics; required when host is not loopback.',
      ),
    max_body_bytes: size(MiB, 'Largest accepted ingest body.'),
    max_records_per_request: positiveInt(
      10_000,
      'Most records per ingest request.',
    ),
  }).prefault({}),
  metrics: section({
    enabled: flag(true, 'Serve /metrics.'),
    default_metrics: flag(true, 'Include process/runtime metrics.'),
  }).prefault({}),
  sources: section({
    files: z.array(fileSource).default([]).describe('File tailing groups.'),
    docker: dockerSource.prefault({}),
    kubernetes: kubernetesSource.prefault({}),
    http: section({
      enabled: flag(true, 'Accept POST /api/v1/logs.'),
      labels: stringMap('Labels added to every ingested record.'),
    }).prefault({}),
  }).prefault({}),
  dispatcher: section({
    max_queue_records: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'Intake queue bound (records): what the agent holds in memory; sources pause beyond it. @default (workers + 1) × batch_max_records, at least 5000',
      ),
    max_queue_bytes: sizeValue()
      .optional()
      .describe(
        'Intake queue bound (bytes). @default (workers + 1) × batch_max_bytes, at least 8MiB',
      ),
    drop_policy: z
      .enum(['block', 'drop_newest', 'drop_oldest'])
      .default('block')
      .describe('When full: pause sources (block) or drop.'),
    batch_max_records: positiveInt(1000, 'Records per batch.'),
    batch_max_bytes: size(MiB, 'Bytes per batch.'),
    batch_timeout: duration(1000, 'Send a partial batch after this long.'),
    workers: positiveInt(4, 'Concurrent sends.'),
    send_timeout: duration(30_000, 'Per-send timeout.'),
    max_retries: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Attempts before dead-lettering. @default retry forever'),
    shutdown_timeout: duration(10_000, 'Drain bound on shutdown.'),
    spill: section({
      enabled: flag(
        true,
        'The disk buffer: when the intake is full and the buffer protects something (see trigger), records go to a disk log instead of pausing sources, and count as held for the position commit once written, so files may rotate away meanwhile; delivered first, in order, after a restart. Only with drop_policy: block.',
      ),
      directory: z.string().optional().describe('@default <data_dir>/spill'),
      max_bytes: size(
        1024 * MiB,
        'Bytes held in the disk buffer; past it (or the free-space floor) see when_full.',
      ),
      max_segment_bytes: size(16 * MiB, 'Segment file size of the spill log.'),
      fsync: z
        .enum(['always', 'interval', 'never'])
        .default('interval')
        .describe(
          'When spill writes reach the disk itself (a killed agent loses nothing with any policy; this is about power loss).',
        ),
      min_free: sizeValue()
        .optional()
        .describe(
          'Free space left on the spill file system, never spilled into. @default min(512MiB, 10% of the file system)',
        ),
      when_full: z
        .enum(['pause', 'drop_oldest'])
        .default('pause')
        .describe(
          'At max_bytes or the free-space floor: pause the sources, or drop the oldest buffered records (counted as spill_full drops, logged with their files).',
        ),
      trigger: z
        .enum(['risk', 'backpressure'])
        .default('risk')
        .describe(
          'When a full intake fills the disk buffer. risk: only while it protects something: a sink is failing (a retry pending, a circuit not closed) or a rotated-away or deleted file still has unread bytes; a sink that is merely slower than the sources pauses them (files are the buffer) at no disk cost. backpressure: whenever the intake is full.',
        ),
    }).prefault({}),
  }).prefault({}),
  positions: section({
    store: z
      .enum(['file', 'redis', 'memory'])
      .default('file')
      .describe('Position store backend.'),
    path: z
      .string()
      .optional()
      .describe('JSON store path. @default <data_dir>/positions.json'),
    redis_url: z.string().optional().describe('Redis URL (store: redis).'),
    namespace: z.string().default('lc').describe('Redis key namespace.'),
    flush_interval: duration(
      0,
      'Longest a committed position waits before it is saved. 0: saved with every acknowledged batch (group commit), so a crash re-sends only what was in flight.',
    ),
    fsync: z
      .enum(['always', 'interval', 'never'])
      .default('interval')
      .describe(
        'File store: when position saves reach the disk itself. Every save is written to the OS first, so a killed agent loses nothing with any policy; this is about power loss (`interval`: within 1 s).',
      ),
    on_corruption: z
      .enum(['restore_backup', 'recreate', 'fail'])
      .default('restore_backup')
      .describe(
        'JSON store: a corrupt or missing file with backups present is restored from the newest valid backup (re-reads at most one flush interval), started empty (`recreate`: sources apply their start policy) or refused (`fail`).',
      ),
    backup_count: z
      .number()
      .int()
      .min(0)
      .default(3)
      .describe('JSON store: rotated backups kept next to the file.'),
  }).prefault({}),
  persistence: section({
    enabled: flag(
      true,
      'Batch WAL: a batch written to it is delivered again after a crash and counts as held for the position commit. When batches are written: see mode.',
    ),
    mode: z
      .enum(['on_failure', 'always'])
      .default('on_failure')
      .describe(
        'on_failure: a batch is written only when a delivery of it failed or one of its sinks is down (no cost while sinks are healthy); always: every batch before it is sent (also holds HTTP ingest, which cannot be read again, across a crash).',
      ),
    directory: z.string().optional().describe('@default <data_dir>/wal'),
    fsync: z
      .enum(['always', 'interval', 'never'])
      .default('interval')
      .describe('WAL fsync policy.'),
    max_pending_bytes: size(256 * MiB, 'WAL byte budget.'),
    batch_ttl: durationValue()
      .optional()
      .describe('Dead-letter batches older than this.'),
  }).prefault({}),
  buffer: section({
    max_segment_bytes: size(
      64 * MiB,
      'Segment size of on-disk logs (WAL, DLQ).',
    ),
  }).prefault({}),
  dlq: section({
    enabled: flag(
      true,
      'Keep permanently failed records in a replayable dead-letter log.',
    ),
    directory: z.string().optional().describe('@default <data_dir>/dlq'),
  }).prefault({}),
  processing: section({
    pipelines: z
      .array(pipelineSchema)
      .default([])
      .describe('Processing pipelines; first matching one per source.'),
  }).prefault({}),
  sinks: sinksSchema,
});

/** The validated configuration (defaults applied, units resolved). */
export type AgentConfig = z.output<typeof configSchema>;
/** What a YAML file may contain. */
export type AgentConfigInput = z.input<typeof configSchema>;
