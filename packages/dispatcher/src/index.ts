// Public API of @lc/dispatcher. List exports by name (STYLE.md rule 3).
export {};
