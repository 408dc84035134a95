#!/usr/bin/env -S node --single-threaded-gc --max-semi-space-size=4 --heap-growing-percent=100
// lc-agent command line. Only this loads first: a stop signal that comes
// while the rest loads (and while the config is read and checked) is a
// graceful stop, not a death by the default action.
import { catchEarlySignals } from './runtime/early-signals.js';

const earlySignals =
  process.argv[2] === 'run' ? catchEarlySignals() : undefined;
const { main } = await import('./cli-main.js');
await main(earlySignals);
