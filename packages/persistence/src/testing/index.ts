// Test doubles and conformance helpers of @lc/persistence.
export {};
