#!/usr/bin/env node
// End-to-end: file → Kafka (librdkafka mock broker from scripts/services.sh)
// through the real lc-agent (built dist) at its defaults (client: auto, which
// is librdkafka when the native module is installed) and with client:
// kafkajs, next to baselines measured in the same run on the same corpus and
// broker:
//   - kcat -P -l (librdkafka, C): the floor for producing these lines;
//   - plain producer loops in a child process, one per client (batches of
//     1000, 4 in flight, acks -1, no compression, no headers): what each
//     client library costs without the agent around it.
// Delivered lines are the topic's high watermarks (sum over partitions).
//
//   node bench/e2e-kafka.mjs                        2,000,000 lines
//   LC_BENCH_LINES=200000 node bench/e2e-kafka.mjs  a quicker run
//   LC_KAFKA_BROKERS=host:port overrides .lc-services.env
//   LC_BENCH_KAFKA_ROWS=agent  only the agent rows (A/B runs of two builds);
//                        =default  only the agent at its defaults
//   LC_BENCH_KAFKA_SINK_EXTRA='dedup_headers: record_id'  extra keys for the
//                        agent's kafka sink (the rows say so: not defaults)
import {
  copyFileSync,
  mkdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeCorpus } from './corpus.mjs';
import { cpuSeconds, peakRssMb, spawnBuiltAgent } from './lib/agent-proc.mjs';
import {
  killAtCleanup,
  loadAvg,
  onCleanup,
  report,
  requireFrom,
  root,
  runScenario,
  sendCorpusInBatches,
  servicesEnv,
  sleep,
  stopAgent,
  tempDir,
  timedCommand,
} from './lib/e2e-util.mjs';

const LINES = Number(process.env.LC_BENCH_LINES ?? 2_000_000);
const ROWS = process.env.LC_BENCH_KAFKA_ROWS ?? 'all';
const SINK_EXTRA = process.env.LC_BENCH_KAFKA_SINK_EXTRA ?? '';
const { Kafka, logLevel } = requireFrom('sinks')('kafkajs');

/** The native client, or why not (it is an optional dependency). */
function loadRdKafka() {
  try {
    return { module: requireFrom('sinks')('@confluentinc/kafka-javascript') };
  } catch (error) {
    return { reason: error.message.split('\n')[0] };
  }
}

/** Child mode: the librdkafka (node binding) baseline producer. */
async function rdkafkaBaseline(corpus, topic, broker) {
  const { module } = loadRdKafka();
  const producer = new module.Producer({
    'bootstrap.servers': broker,
    acks: -1,
    dr_cb: true,
  });
  await new Promise((resolve, reject) =>
    producer.connect({}, (err) => (err ? reject(err) : resolve())),
  );
  producer.setPollInBackground(true);
  producer.on('delivery-report', (err, report) => {
    const batch = report.opaque;
    if (err) batch.failed++;
    if (--batch.left === 0) batch.done();
  });
  await sendCorpusInBatches(corpus, {
    toItem: (value) => Buffer.from(value),
    send: (messages) =>
      new Promise((resolve, reject) => {
        const batch = {
          left: messages.length,
          failed: 0,
          done: () =>
            batch.failed === 0
              ? resolve()
              : reject(new Error(`${batch.failed} failed`)),
        };
        for (const value of messages)
          producer.produce(topic, null, value, null, Date.now(), batch);
      }),
  });
  await new Promise((resolve) => producer.disconnect(5000, resolve));
}

/** Child mode: the kafkajs baseline producer. */
async function kafkajsBaseline(corpus, topic, broker) {
  const kafka = new Kafka({
    clientId: 'lc-bench-baseline',
    brokers: [broker],
    logLevel: logLevel.ERROR,
  });
  const producer = kafka.producer({
    allowAutoTopicCreation: true,
    idempotent: false,
  });
  await producer.connect();
  await sendCorpusInBatches(corpus, {
    toItem: (value) => ({ key: 'bench', value }),
    send: (messages) => producer.send({ topic, acks: -1, messages }),
  });
  await producer.disconnect();
}

async function highWatermarks(admin, topic) {
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((a, p) => a + Number(p.high), 0);
  } catch {
    return 0; // not created yet
  }
}

async function main() {
  const env = servicesEnv();
  const broker = (env.LC_KAFKA_BROKERS ?? '').split(',')[0];
  if (!broker) throw new Error('LC_KAFKA_BROKERS not set (.lc-services.env)');
  const kafka = new Kafka({
    clientId: 'lc-bench-admin',
    brokers: [broker],
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  onCleanup(() => admin.disconnect());
  const run = `lc-bench-${process.pid}-${Date.now()}`;
  const topics = {
    agent: `${run}-agent`,
    agentKafkajs: `${run}-agent-kafkajs`,
    kcat: `${run}-kcat`,
    kafkajs: `${run}-kafkajs`,
    rdkafka: `${run}-rdkafka`,
  };
  // The mock cluster has no controller for CreateTopics: topics are created
  // on first produce (auto-creation, the mock's default partition count).
  onCleanup(() =>
    admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {}),
  );

  const dir = tempDir('lc-bench-kafka-');
  mkdirSync(join(dir, 'logs'));
  const corpus = join(dir, 'corpus.log');
  writeCorpus(corpus, LINES);
  const bytes = statSync(corpus).size;
  const loadBefore = loadAvg();

  const row = (label, seconds, cpu, rss, lines) => ({
    scenario: label,
    lines,
    'lines/s': Math.round(lines / seconds),
    'MB/s': +(bytes / 2 ** 20 / seconds).toFixed(1),
    'cpu s': +cpu.toFixed(2),
    'cpu s / M lines': +((cpu / lines) * 1e6).toFixed(2),
    'peak RSS MB': +rss.toFixed(0),
  });
  const rows = [];
  const delivered = { expected: LINES };

  const rdkafka = loadRdKafka();
  if (ROWS === 'all') {
    // Baseline 1: kcat (librdkafka) producing the same file, acks=all.
    const kcat = await timedCommand('kcat', [
      '-P',
      '-b',
      broker,
      '-t',
      topics.kcat,
      '-X',
      'acks=all',
      '-l',
      corpus,
    ]);
    const kcatGot = await highWatermarks(admin, topics.kcat);
    delivered.kcat = kcatGot;
    rows.push(
      row(
        'baseline: kcat -P -l (librdkafka)',
        kcat.seconds,
        kcat.cpu,
        kcat.rss,
        kcatGot,
      ),
    );

    // Baselines 2 and 3: bare client loops in a child process.
    const loops = [['kafkajs', topics.kafkajs]];
    if (rdkafka.module !== undefined) loops.push(['rdkafka', topics.rdkafka]);
    else console.log(`librdkafka rows skipped: ${rdkafka.reason}`);
    for (const [client, topic] of loops) {
      const r = await timedCommand(process.execPath, [
        join(root, 'bench', 'e2e-kafka.mjs'),
        `--${client}-baseline`,
        corpus,
        topic,
        broker,
      ]);
      if (r.code !== 0)
        throw new Error(`${client} baseline failed: ${r.stderr.slice(-2000)}`);
      const got = await highWatermarks(admin, topic);
      delivered[client] = got;
      rows.push(
        row(
          `baseline: ${client === 'kafkajs' ? 'kafkajs' : 'librdkafka (node binding)'} producer loop`,
          r.seconds,
          r.cpu,
          r.rss,
          got,
        ),
      );
    }
  }

  // The agent: file source → kafka sink (text values, acks -1, no
  // compression), once at its defaults (client: auto) and once on kafkajs.
  const tuned = SINK_EXTRA === '' ? '' : `, ${SINK_EXTRA}`;
  const agentRuns = [
    [
      'auto',
      topics.agent,
      `file → Kafka (agent, ${tuned === '' ? 'defaults' : `client: auto${tuned}`})`,
    ],
  ];
  if (rdkafka.module !== undefined && ROWS !== 'default')
    agentRuns.push([
      'kafkajs',
      topics.agentKafkajs,
      `file → Kafka (agent, client: kafkajs${tuned})`,
    ]);
  const agentRows = [];
  for (const [client, topic, label] of agentRuns) {
    const r = await runAgent(dir, corpus, broker, topic, client, admin);
    delivered[`agent ${client}`] = r.got;
    agentRows.push(row(label, r.seconds, r.cpu, r.rss, r.got));
    if (r.client !== undefined) agentRows.at(-1).client = r.client;
  }
  rows.unshift(...agentRows);

  console.log(
    `corpus ${LINES.toLocaleString('en-US')} lines (${(bytes / 2 ** 20).toFixed(0)} MiB), broker ${broker}; load ${loadBefore} → ${loadAvg()}`,
  );
  report('file → Kafka', rows, { delivered });
  const kcatRow = rows.find((r) => r.scenario.startsWith('baseline: kcat'));
  for (const r of rows.filter((x) => x.scenario.startsWith('file →')))
    if (kcatRow !== undefined)
      console.log(
        `${r.scenario}${r.client ? ` [client ${r.client}]` : ''}: ${r.lines}/${LINES} delivered; ${(r['lines/s'] / kcatRow['lines/s']).toFixed(3)}× kcat throughput, ${r['cpu s / M lines']} CPU-s/M vs kcat ${kcatRow['cpu s / M lines']}`,
      );
  for (const [what, got] of Object.entries(delivered))
    if (what !== 'expected' && got !== LINES)
      console.log(
        `note: ${what}: ${got - LINES} lines more/fewer than written (high watermarks count every copy)`,
      );
}

/** Run the built agent on `corpus` (moved into its log dir) until `topic` holds every line. */
async function runAgent(dir, corpus, broker, topic, client, admin) {
  const logs = join(dir, `logs-${client}`);
  mkdirSync(logs);
  const config = join(dir, `agent-${client}.yaml`);
  writeFileSync(
    config,
    `app: {data_dir: ${dir}/data-${client}, log_level: info}
api: {port: 0}
sources: {files: [{include: ["${logs}/*.log"], poll_interval: 100ms}]}
positions: {flush_interval: 1s}
sinks:
  kafka: [{name: kafka, brokers: ["${broker}"], topic: ${topic}, format: text${client === 'auto' ? '' : `, client: ${client}`}${SINK_EXTRA === '' ? '' : `, ${SINK_EXTRA}`}}]
`,
  );
  const agent = spawnBuiltAgent(root, config);
  killAtCleanup(agent);
  await agent.ready();
  const used = /uses client (\w+)/.exec(agent.stderr())?.[1];
  const pid = agent.child.pid;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  // The corpus is reused by the next run: copy it in, then rename.
  copyFileSync(corpus, join(dir, `corpus-${client}.tmp`));
  renameSync(join(dir, `corpus-${client}.tmp`), join(logs, 'app.log'));
  let got = 0;
  let last = 0;
  let lastChange = Date.now();
  while (got < LINES && Date.now() - lastChange < 60_000) {
    await sleep(200);
    got = await highWatermarks(admin, topic);
    if (got !== last) {
      last = got;
      lastChange = Date.now();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const rss = peakRssMb(pid);
  await stopAgent(agent);
  return { got, seconds, cpu, rss, client: used };
}

if (process.argv[2] === '--kafkajs-baseline') {
  const [corpus, topic, broker] = process.argv.slice(3);
  await kafkajsBaseline(corpus, topic, broker);
} else if (process.argv[2] === '--rdkafka-baseline') {
  const [corpus, topic, broker] = process.argv.slice(3);
  await rdkafkaBaseline(corpus, topic, broker);
} else {
  await runScenario(main);
}
