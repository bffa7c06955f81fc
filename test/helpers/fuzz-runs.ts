/**
 * How many generated inputs a property test in `npm test` tries: a tenth of its full count, at
 * least 20. Fuzzing is the proofs' tier (`npm run test:proof` runs these files too, with
 * FAILOVER_TEST_FUZZ=full, see vitest.proof.config.ts): `npm test` keeps every property as a
 * quick check on fresh random inputs, and the full counts (tens of thousands of parses and
 * patches, a tenth of the suite's CPU) run once, where CI runs the other proofs.
 */
export function fuzzRuns(full: number): number {
  if (process.env.FAILOVER_TEST_FUZZ === "full") return full;
  return Math.min(full, Math.max(20, Math.ceil(full / 10)));
}

/** The property test files, for the proofs' config. */
export const PROPERTY_TEST_FILES = [
  "test/domain/command.test.ts",
  "test/domain/lock.test.ts",
  "test/domain/targets/workload/round-trip.property.test.ts",
  "test/domain/targets/helmrelease/helmrelease.property.test.ts",
] as const;
