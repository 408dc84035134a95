// A counting OTLP/HTTP logs endpoint for the benchmarks: gunzips and decodes
// every request with the official opentelemetry-proto definitions (the
// protobufjs code @opentelemetry/otlp-transformer ships; a dev dependency of
// @lc/test-utils) and counts log records. No OpenTelemetry Collector can be
// installed here; this answers 200 like one.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { requireFrom } from './e2e-util.mjs';

const root = requireFrom('test-utils')(
  '@opentelemetry/otlp-transformer/build/src/generated/root.js',
);
const { ExportLogsServiceRequest } = root.opentelemetry.proto.collector.logs.v1;

/** Start the endpoint on 127.0.0.1; `records` counts decoded log records. */
export async function createCountingOtlp() {
  const state = { requests: 0, records: 0, badBodies: 0, wireBytes: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      try {
        let body = Buffer.concat(chunks);
        state.wireBytes += body.length;
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        let n = 0;
        if (String(req.headers['content-type']).includes('json')) {
          for (const rl of JSON.parse(body.toString('utf8')).resourceLogs ?? [])
            for (const sl of rl.scopeLogs ?? [])
              n += sl.logRecords?.length ?? 0;
        } else {
          const msg = ExportLogsServiceRequest.decode(body);
          for (const rl of msg.resourceLogs)
            for (const sl of rl.scopeLogs) n += sl.logRecords.length;
        }
        state.records += n;
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
      } catch (error) {
        state.badBodies++;
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
