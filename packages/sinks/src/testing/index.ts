// Test doubles and conformance helpers of @lc/sinks.
export {};
