// Public API of @lc/agent. List exports by name (STYLE.md rule 3).
export {};
