// Every export of every lc package imports from the tarball, and resolves
// to a file that is in it (its `types` too).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const specs = JSON.parse(readFileSync('exports.json', 'utf8'));
for (const spec of specs) {
  const mod = await import(spec);
  const names = Object.keys(mod);
  if (names.length === 0) throw new Error(`${spec} exports nothing`);
  console.log(`pack-check:   import '${spec}': ${names.length} export(s)`);
}
const pkgs = JSON.parse(readFileSync('package.json', 'utf8')).dependencies;
for (const name of Object.keys(pkgs)) {
  const dir = join('node_modules', name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const targets = [];
  const walk = (value) => {
    if (typeof value === 'string') targets.push(value);
    else if (value !== null && typeof value === 'object')
      Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  walk(manifest.bin);
  for (const target of targets) {
    if (!existsSync(join(dir, target)))
      throw new Error(`${name}: ${target} (exports/bin) is not in the package`);
  }
}
console.log('pack-check:   every exports/bin target is in its package');
