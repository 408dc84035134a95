// Public API of @lc/positions. List exports by name (STYLE.md rule 3).
export {};
