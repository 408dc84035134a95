// The built lc-agent binary tails files and exports them as OTLP logs. No
// OpenTelemetry Collector can be installed here, so the endpoint is
// createOtlpTestServer (@lc/test-utils): a real HTTP server in the test that
// decodes every request with the official opentelemetry-proto definitions
// and answers like a Collector's OTLP/HTTP receiver (here: first a 503 with
// Retry-After, then 200).
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createOtlpTestServer, createTempDir } from '@lc/test-utils';
import type { OtlpTestServer, TempDir } from '@lc/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, release, spawnBinary } from './agent-process.js';
import type { AgentProcess } from './agent-process.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('lc-agent run → OTLP/HTTP endpoint (built binary)', () => {
  let tmp: TempDir;
  let otlp: OtlpTestServer;
  let agent: AgentProcess | undefined;

  beforeEach(async () => {
    tmp = await createTempDir('lc-agent-otlp-');
    otlp = await createOtlpTestServer({
      expectAuthorization: 'Bearer e2e-token',
    });
    await mkdir(join(tmp.path, 'logs'), { recursive: true });
  });

  afterEach(async () => {
    await release(agent, otlp, tmp);
    agent = undefined;
  });

  it('should export every line once with resource, severity, trace context and attributes, retrying a 503', async () => {
    await writeFile(
      join(tmp.path, 'agent.yaml'),
      `app: {data_dir: ${tmp.path}/data}
api: {port: 0}
sources: {files: [{include: ["${tmp.path}/logs/*.log"], labels: {job: otlp-e2e}}]}
dispatcher: {batch_timeout: 100ms}
processing:
  pipelines:
    - name: default
      steps:
        - {type: json_parse, when: {line_matches: "^\\\\{"}, metadata: [trace_id, span_id, user], message_field: msg}
        - {type: level_extract}
sinks:
  otlp:
    - endpoint: "${otlp.url}"
      headers: {authorization: "Bearer \${OTLP_TOKEN}"}
      resource_attributes: {deployment.environment.name: e2e}
`,
    );
    otlp.respondWith({ status: 503, retryAfter: '1', message: 'warming up' });
    const json = Array.from(
      { length: 200 },
      (_, i) =>
        `{"level":"warn","msg":"json ${i}","trace_id":"${TRACE}","span_id":"${SPAN}","user":"u${i}"}`,
    );
    const text = Array.from({ length: 200 }, (_, i) => `ERROR text ${i}`);
    await appendFile(join(tmp.path, 'logs', 'app.log'), `${json.join('\n')}\n`);
    await appendFile(join(tmp.path, 'logs', 'web.log'), `${text.join('\n')}\n`);
    agent = spawnBinary(
      ['run', '--config', join(tmp.path, 'agent.yaml')],
      tmp.path,
      {
        OTLP_TOKEN: 'e2e-token',
      },
    );
    await agent.apiAddress();
    await eventually(
      async () => otlp.records().length >= 400,
      60_000,
      '400 records at the OTLP endpoint',
    );
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);

    const records = otlp.records();
    const expected = [...json.map((_, i) => `json ${i}`), ...text];
    expect(records.map((r) => r.body).sort()).toEqual(expected.sort());
    expect(otlp.requests[0]?.status).toBe(503);
    expect(
      otlp.requests.every((r) => r.encoding === 'protobuf' && r.gzip),
    ).toBe(true);

    const fromJson = records.find((r) => r.body === 'json 7');
    expect(fromJson).toMatchObject({
      severityNumber: 13,
      traceId: TRACE,
      spanId: SPAN,
      attributes: expect.objectContaining({
        user: 'u7',
        'log.file.path': join(tmp.path, 'logs', 'app.log'),
        'log.file.name': 'app.log',
      }),
    });
    expect(fromJson?.resource).toEqual({
      'service.name': 'otlp-e2e',
      'host.name': hostname(),
      'deployment.environment.name': 'e2e',
    });
    const fromText = records.find((r) => r.body === 'ERROR text 3');
    expect(fromText).toMatchObject({ severityNumber: 17, traceId: '' });
    expect(fromText?.attributes['log.file.name']).toBe('web.log');
    expect(BigInt(fromText?.timeUnixNano ?? '0')).toBeGreaterThan(0n);
  }, 120_000);
});
