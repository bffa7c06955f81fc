/** Runs `run` after `delayMs`, returns its cancel. */
export type Scheduler = (run: () => Promise<void>, delayMs: number) => () => void;

/**
 * The longest delay setTimeout keeps: node runs a longer one after 1 ms (with a
 * TimeoutOverflowWarning). Durations in services.yaml have no upper bound, so a long
 * `auto_failback_after` (`720h`) would otherwise be looked at again at once, and again.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A timer that does not keep the process alive, for any delay: one longer than MAX_TIMER_MS
 * waits in steps of at most that, and runs once the whole delay has passed.
 */
export const timerScheduler: Scheduler = (run, delayMs) => {
  let timer: NodeJS.Timeout | undefined;
  const wait = (left: number) => {
    const step = Math.min(Math.max(0, left), MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (left > step) wait(left - step);
      else void run();
    }, step);
    timer.unref();
  };
  wait(delayMs);
  return () => clearTimeout(timer);
};
