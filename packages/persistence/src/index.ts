// Public API of @lc/persistence. List exports by name (STYLE.md rule 3).
export { decodeRecords, encodeRecords } from './record-codec.js';
