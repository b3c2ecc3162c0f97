// What one cron job may spend in one tick (DESIGN §8): wall-clock time and subrequests (calls to
// other services, e.g. SpiceDB). A job checks `exhausted()` between bounded steps and stops early;
// the rest waits for the next tick. Database statements are not subrequests on Workers (the
// connection is one), so only calls to other services are counted.

export interface BudgetLimits {
  /** Wall-clock milliseconds the job may run. */
  timeMs: number;
  /** Calls to other services the job may make. */
  subrequests: number;
}

/** Per job and tick. The tick runs every minute; four jobs at 10 s each leave room to spare. */
export const defaultJobBudget: BudgetLimits = { timeMs: 10_000, subrequests: 1_000 };

export interface Budget {
  /** Records `count` calls made (or about to be made). */
  spend(count?: number): void;
  /** Calls still allowed. */
  subrequestsLeft(): number;
  /** Milliseconds still allowed. */
  timeLeftMs(): number;
  /** True once either limit is reached. */
  exhausted(): boolean;
}

export function createBudget(limits: BudgetLimits, clock: () => number = Date.now): Budget {
  const deadline = clock() + limits.timeMs;
  let left = limits.subrequests;
  return {
    spend(count = 1) {
      left -= count;
    },
    subrequestsLeft: () => Math.max(0, left),
    timeLeftMs: () => Math.max(0, deadline - clock()),
    exhausted: () => left <= 0 || clock() >= deadline,
  };
}

/** A budget that never runs out, for callers outside the cron (admin routes, scripts, tests). */
export const unlimitedBudget: Budget = {
  spend() {},
  subrequestsLeft: () => Number.POSITIVE_INFINITY,
  timeLeftMs: () => Number.POSITIVE_INFINITY,
  exhausted: () => false,
};
