// Every lc package in node_modules came from a packed tarball, never from
// the registry (the @lc scope there is not ours).
import { readFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const wanted = Object.keys(
  JSON.parse(readFileSync('package.json', 'utf8')).dependencies,
);
const lc = Object.entries(lock.packages).filter(([path]) =>
  /(^|\/)node_modules\/@lc\//.test(path),
);
const bad = lc.filter(
  ([, entry]) => !String(entry.resolved).startsWith('file:'),
);
if (bad.length > 0) {
  throw new Error(
    `installed from elsewhere than the tarballs: ${bad.map(([p, e]) => `${p} (${e.resolved})`).join(', ')}`,
  );
}
const missing = wanted.filter(
  (name) => !lc.some(([p]) => p === `node_modules/${name}`),
);
if (missing.length > 0) throw new Error(`not installed: ${missing.join(', ')}`);
console.log(
  `pack-check:   installed ${lc.length} lc package(s), all from the tarballs`,
);
