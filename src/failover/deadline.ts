import { AsyncLocalStorage } from "node:async_hooks";
import { FailoverError } from "../domain/errors.js";

/**
 * The deadline of the failover being run, carried through its async calls, so a GitHub call
 * made on its behalf never outlives it (repo/github/octokit-client.ts reads it).
 */
const deadlines = new AsyncLocalStorage<number>();

/** Milliseconds left before the current failover's deadline; undefined outside one. */
export function remainingBudgetMs(now = Date.now()): number | undefined {
  const at = deadlines.getStore();
  return at === undefined ? undefined : at - now;
}

/**
 * Runs `body` with a deadline `budgetMs` from now. `body` gets `bounded`, which races one
 * step against the deadline and rejects with `onTimeout()` when it passes first (the step
 * itself is not cancelled, but every GitHub call it makes after the deadline fails at once).
 */
export function withBudget<T>(
  budgetMs: number | undefined,
  body: (
    bounded: <S>(step: Promise<S>, onTimeout: () => FailoverError) => Promise<S>,
  ) => Promise<T>,
): Promise<T> {
  if (budgetMs === undefined) return body((step) => step);
  const at = Date.now() + budgetMs;
  const bounded = <S>(step: Promise<S>, onTimeout: () => FailoverError): Promise<S> =>
    new Promise<S>((resolve, reject) => {
      const timer = setTimeout(() => reject(onTimeout()), Math.max(0, at - Date.now()));
      step.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          // A GitHub call whose limit was the rest of the budget can time out a moment before
          // this timer fires: it is the budget that ran out, and the answer says so.
          reject(budgetExhausted(error) ? onTimeout() : error);
        },
      );
    });
  return deadlines.run(at, () => body(bounded));
}

/** The error, or one of its causes, says a call's limit was what was left of the budget. */
function budgetExhausted(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    typeof e === "object" && e !== null && depth < 5;
    depth++
  ) {
    if (e instanceof FailoverError && e.code === "timeout" && e.details?.budgetExhausted === true)
      return true;
    if ((e as { budget?: unknown }).budget === true) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
