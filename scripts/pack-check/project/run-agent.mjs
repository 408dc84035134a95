// `lc-agent run --config agent.yaml` from the tarball: lines written to a
// file reach both the file sink and the custom sink (sinks.custom), and
// SIGTERM stops the agent cleanly (exit 0).
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const LINES = 100;
for (const d of ['agent-data', 'agent-out', 'agent-logs', 'agent-mine.log'])
  await rm(d, { recursive: true, force: true });
await mkdir('agent-logs');
const lines = Array.from({ length: LINES }, (_, i) => `agent line ${i}`);
await writeFile(join('agent-logs', 'app.log'), `${lines.join('\n')}\n`);

// The installed command itself, not through npx: npx does not pass SIGTERM
// on. --exit-with-parent: should this script die, the agent stops too.
const agent = spawn(
  join('node_modules', '.bin', 'lc-agent'),
  ['run', '--config', 'agent.yaml', '--exit-with-parent'],
  { stdio: ['ignore', 'inherit', 'pipe'] },
);
let stderr = '';
agent.stderr.on('data', (d) => (stderr += d));
const exited = new Promise((resolve) =>
  agent.on('exit', (code, signal) => resolve(code ?? signal)),
);

const count = async () => {
  const mine = (await readFile('agent-mine.log', 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l !== '').length;
  let out = 0;
  for (const f of await readdir('agent-out').catch(() => []))
    out += (await readFile(join('agent-out', f), 'utf8'))
      .split('\n')
      .filter((l) => l !== '').length;
  return { mine, out };
};
const deadline = Date.now() + 60_000;
for (;;) {
  const c = await count();
  if (c.mine === LINES && c.out === LINES) break;
  if (agent.exitCode !== null || Date.now() > deadline) {
    agent.kill('SIGKILL');
    throw new Error(
      `lc-agent run: ${JSON.stringify(c)} of ${LINES} lines per sink\n${stderr}`,
    );
  }
  await new Promise((r) => setTimeout(r, 100));
}
agent.kill('SIGTERM');
const code = await exited;
if (code !== 0) throw new Error(`lc-agent run exited ${code}\n${stderr}`);
const mine = (await readFile('agent-mine.log', 'utf8'))
  .split('\n')
  .slice(0, -1);
if (JSON.stringify(mine) !== JSON.stringify(lines))
  throw new Error('the custom sink got other lines than were written');
console.log(
  `pack-check:   lc-agent run: ${LINES} lines to the file sink and the custom sink, SIGTERM -> exit 0`,
);
