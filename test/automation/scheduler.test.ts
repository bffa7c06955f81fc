import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_TIMER_MS, timerScheduler } from "../../src/automation/scheduler.js";

const DAY = 86_400_000;

// Vitest's fake timers do what node does with a delay past 2^31-1 ms: they run it after 1 ms.
describe("timerScheduler", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs a 30-day delay (auto_failback_after: 720h) after 30 days, not at once", async () => {
    const run = vi.fn(async () => {});
    timerScheduler(run, 30 * DAY);
    await vi.advanceTimersByTimeAsync(1000);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(30 * DAY - MAX_TIMER_MS - 1001);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledOnce();
  });

  it("runs a short delay once, when it has passed", async () => {
    const run = vi.fn(async () => {});
    timerScheduler(run, 5000);
    await vi.advanceTimersByTimeAsync(4999);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledOnce();
    await vi.advanceTimersByTimeAsync(60 * DAY);
    expect(run).toHaveBeenCalledOnce();
  });

  it("is cancelled in any step of a long wait", async () => {
    const early = vi.fn(async () => {});
    const late = vi.fn(async () => {});
    const cancelEarly = timerScheduler(early, 40 * DAY);
    const cancelLate = timerScheduler(late, 40 * DAY);
    cancelEarly();
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + DAY);
    cancelLate();
    await vi.advanceTimersByTimeAsync(60 * DAY);
    expect(early).not.toHaveBeenCalled();
    expect(late).not.toHaveBeenCalled();
  });
});
