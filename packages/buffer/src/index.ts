// Public API of @lc/buffer. List exports by name (STYLE.md rule 3).
export {};
