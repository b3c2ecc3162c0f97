// Cron expressions and time zones, parsed by croner (5 fields, minute precision). A bad one is a
// client mistake: 422 pointing at the field, with croner's reason.
import { Cron } from "croner";
import { ValidationError } from "../errors/domain-error.ts";

export interface CronSpec {
  cron: string;
  timezone: string;
}

export interface CompiledCron {
  /** The first instant strictly after `after`, or null when the expression never fires again. */
  nextAfter(after: Date): Date | null;
}

function invalid(field: "cron" | "timezone", message: string): ValidationError {
  return new ValidationError([{ location: "body", pointer: `/${field}`, message }]);
}

function assertTimeZone(timezone: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch {
    throw invalid("timezone", `Unknown IANA time zone: ${timezone}.`);
  }
}

/** Compiles an expression already stored (validated at create or edit). */
export function compileCron(spec: CronSpec): CompiledCron {
  const cron = new Cron(spec.cron, { mode: "5-part", timezone: spec.timezone, paused: true });
  return { nextAfter: (after) => cron.nextRun(after) };
}

/**
 * Validates a schedule's expression and zone and returns its first instant after `now`.
 * Exactly five fields (no seconds, no `@daily`-style nicknames); day-of-month and day-of-week
 * combine with OR, as in Vixie cron.
 */
export function validateCron(spec: CronSpec, now: Date): Date {
  if (!/^\S+(\s+\S+){4}$/.test(spec.cron.trim())) {
    throw invalid("cron", "Expected five fields: minute hour day-of-month month day-of-week.");
  }
  assertTimeZone(spec.timezone);
  let compiled: CompiledCron;
  try {
    compiled = compileCron({ cron: spec.cron.trim(), timezone: spec.timezone });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, "") : "";
    throw invalid("cron", `Invalid cron expression${reason ? `: ${reason}` : "."}`);
  }
  const first = compiled.nextAfter(now);
  if (!first) throw invalid("cron", "The expression never fires.");
  return first;
}
