// Public API of @lc/monitors. List exports by name (STYLE.md rule 3).
export {};
