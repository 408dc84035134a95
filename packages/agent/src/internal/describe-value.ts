// Moved to @lc/core (shared with @lc/processing); re-exported so the
// agent's imports stay put.
export { describeValue } from '@lc/core';
