// What one firing pass does to one schedule, decided in the Worker because cron expressions and
// time zones are evaluated by croner. Pure: the same row and `now` always give the same plan.
import { compileCron } from "./cron-expression.ts";
import type { DueScheduleRecord } from "./run-repo.ts";

/** Instants looked at per schedule per pass; a longer backlog continues in the next pass. */
export const maxInstantsPerPass = 1000;
/** Runs an `allow` schedule spawns per pass. */
export const maxRunsPerPass = 100;

export interface FiringDecision {
  /** Instants to spawn, oldest first. */
  spawn: Date[];
  /** Instants that will never run: older than the catch-up window, or superseded under `skip`/`buffer_one`. */
  missed: number;
  bufferedFor: Date | null;
  /** The next instant not yet looked at (still due when the pass stopped at its bound). */
  nextFireAt: Date | null;
  lastScheduledFor: Date | null;
}

const toDate = (value: Date | string | null) => (value === null ? null : new Date(value));

export function planFiring(schedule: DueScheduleRecord, now: Date): FiringDecision {
  const cron = compileCron(schedule);
  const windowStart = now.getTime() - schedule.catchup_window_seconds * 1000;
  const lastHandled = toDate(schedule.last_scheduled_for);
  let cursor = toDate(schedule.next_fire_at);
  // Never look at an instant twice, even if an edit moved next_fire_at back.
  if (cursor && lastHandled && cursor <= lastHandled) cursor = cron.nextAfter(lastHandled);

  const inWindow: Date[] = [];
  let missed = 0;
  let looked = 0;
  let lastScheduledFor = lastHandled;
  const runsCap = schedule.overlap === "allow" ? maxRunsPerPass : Number.POSITIVE_INFINITY;
  while (cursor && cursor <= now && looked < maxInstantsPerPass && inWindow.length < runsCap) {
    if (cursor.getTime() < windowStart) missed++;
    else inWindow.push(cursor);
    lastScheduledFor = cursor;
    looked++;
    cursor = cron.nextAfter(cursor);
  }
  const caughtUp = !cursor || cursor > now;

  if (schedule.overlap === "allow") {
    return { spawn: inWindow, missed, bufferedFor: null, nextFireAt: cursor, lastScheduledFor };
  }

  // skip / buffer_one: at most one run at a time, and the most recent instant wins.
  let buffered = toDate(schedule.buffered_for);
  if (buffered && buffered.getTime() < windowStart) {
    missed++;
    buffered = null;
  }
  const candidates = buffered ? [buffered, ...inWindow] : inWindow;
  const latest = candidates.at(-1);
  const decision = {
    spawn: [] as Date[],
    missed,
    bufferedFor: null as Date | null,
    nextFireAt: cursor,
    lastScheduledFor,
  };
  if (!latest) return decision;
  // A pass that stopped at its bound has later instants still to come: these are superseded.
  if (!caughtUp) return { ...decision, missed: missed + candidates.length };
  decision.missed += candidates.length - 1;
  if (!schedule.previous_live) decision.spawn = [latest];
  else if (schedule.overlap === "buffer_one") decision.bufferedFor = latest;
  else decision.missed += 1;
  return decision;
}
