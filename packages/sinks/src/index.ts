// Public API of @lc/sinks. List exports by name (STYLE.md rule 3).
export {};
