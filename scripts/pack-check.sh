#!/usr/bin/env bash
# Are the packages ready to publish? Packs every public package as
# `pnpm publish` would (workspace:* rewritten to versions), installs the
# tarballs with npm into a fresh project OUTSIDE the workspace (the lc
# packages only from the tarballs, third-party ones from the registry), and
# uses them there as a user would (scripts/pack-check/):
#   - every export of every package imports, and its `types` type-check
#     (tsc, nodenext, skipLibCheck off) in a TypeScript consumer;
#   - a FileMonitor -> dispatcher -> file sink pipeline delivers every line;
#   - a custom sink written against @lc/core passes describeSinkContract
#     from @lc/core/testing (vitest);
#   - the installed `lc-agent` validates a config and runs it (file sink and
#     that custom sink through sinks.custom), stopping on SIGTERM.
# Works from a fresh clone (`pnpm install --frozen-lockfile`); builds first
# (turbo: cached after `pnpm build`). LC_PACK_CHECK_KEEP=1 keeps the
# temporary project and prints where it is.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

work="$(mktemp -d "${TMPDIR:-/tmp}/lc-pack-check.XXXXXX")"
cleanup() {
  if [ "${LC_PACK_CHECK_KEEP:-0}" = 1 ]; then
    echo "pack-check: kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

say() { printf 'pack-check: %s\n' "$*"; }

say "build"
pnpm build --output-logs=errors-only >/dev/null

say "pack"
mkdir -p "$work/tarballs"
for dir in packages/*/; do
  if [ "$(node -p "require('./${dir}package.json').private === true")" = true ]; then
    continue
  fi
  (cd "$dir" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
for tgz in "$work"/tarballs/*.tgz; do
  manifest="$(tar -xOzf "$tgz" package/package.json)"
  if grep -q '"workspace:' <<<"$manifest"; then
    echo "pack-check: $(basename "$tgz") still has workspace: ranges" >&2
    exit 1
  fi
  say "  $(basename "$tgz") ($(tar -tzf "$tgz" | wc -l) files)"
done

say "install into $work/project with npm"
cp -R scripts/pack-check/project "$work/project"
node scripts/pack-check/write-manifest.mjs "$root" "$work"
(
  cd "$work/project"
  npm install --no-audit --no-fund --loglevel=error
)

say "use the packages"
(
  cd "$work/project"
  node verify-install.mjs
  node check-exports.mjs
  npx --no-install tsc -p tsconfig.json
  say "  types: every export type-checks (nodenext, skipLibCheck off)"
  node pipeline.mjs
  npx --no-install vitest run --reporter=dot
  npx --no-install lc-agent --version
  npx --no-install lc-agent validate --config agent.yaml
  node run-agent.mjs
)
say "ok"
