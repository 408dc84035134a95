// Samples the agent's V8 heap and external memory through its own /metrics
// (prom-client's default Node metrics), to split its RSS: heap used and
// committed (young and old generation), external memory (Buffers,
// ArrayBuffers). Used by bench/e2e-steady.mjs.

const MB = 1024 * 1024;

function gauge(text, name, space) {
  const label = space === undefined ? '' : `\\{space="${space}"\\}`;
  const m = new RegExp(`^${name}${label} (\\S+)`, 'm').exec(text);
  return m ? Number(m[1]) / MB : Number.NaN;
}

/**
 * Fetch `${address}/metrics` every `intervalMs`; `stop()` returns the
 * samples `{ t, heapUsed, heapTotal, young, old, external }` (MB, t in s).
 */
export function startHeapSampler(address, intervalMs) {
  const t0 = performance.now();
  const samples = [];
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    fetch(`${address}/metrics`)
      .then((res) => res.text())
      .then((text) => {
        samples.push({
          t: (performance.now() - t0) / 1000,
          heapUsed: gauge(text, 'nodejs_heap_size_used_bytes'),
          heapTotal: gauge(text, 'nodejs_heap_size_total_bytes'),
          young: gauge(text, 'nodejs_heap_space_size_total_bytes', 'new'),
          old: gauge(text, 'nodejs_heap_space_size_total_bytes', 'old'),
          external: gauge(text, 'nodejs_external_memory_bytes'),
        });
      })
      .catch(() => {}) // the agent is busy or stopping: skip this sample
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** One line per `windowS` seconds: the highest of each figure in it. */
export function heapTimeline(samples, windowS) {
  const parts = [];
  for (let from = 0; ; from += windowS) {
    const part = samples.filter((s) => s.t >= from && s.t < from + windowS);
    if (part.length === 0) break;
    const max = (k) => Math.round(Math.max(...part.map((s) => s[k])));
    parts.push(
      `${max('heapUsed')}/${max('heapTotal')} (young ${max('young')}, old ${max('old')}) ext ${max('external')}`,
    );
  }
  return parts.join('; ');
}
