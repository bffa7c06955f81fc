/**
 * The time bounds of a server under test. The production defaults (10 s a GitHub call, 25 s a
 * failover) are sized for GitHub; ten concurrent failovers against the in-process fake on a
 * 2-core machine busy with other suites can pass them, and the test would then fail because
 * the machine is slow, not because an answer is wrong. A test of the bounds themselves sets
 * its own small values after these. Pacing is covered on the wire
 * (octokit-pacing.nock.test.ts); elsewhere it only slows tests.
 */
export const TEST_BOUNDS: Readonly<Record<string, string>> = {
  GITHUB_REQUEST_TIMEOUT_MS: "300000",
  FAILOVER_BUDGET_MS: "600000",
  GITHUB_WRITE_INTERVAL_MS: "0",
};
