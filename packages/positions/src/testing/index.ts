// Test doubles and conformance helpers of @lc/positions.
export {};
