/**
 * The task lifecycle (DESIGN §4), declared once. The pgEnum, the zod and OpenAPI enums, and every
 * SQL state condition and CASE in `src/` are built from these tables (`lifecycle-sql.ts`); no
 * state name is written anywhere else (test/node/lifecycle-names.test.ts greps for it), and
 * test/node/lifecycle-table.test.ts walks every (state, verb) pair against the database.
 *
 * This module imports nothing: the schema at the bottom of the house reads it too.
 */

/** Every state, what it means, whether it is final, whether a lease can be held in it, and its A2A 1.0 state. */
export const stateTable = {
  /** Waiting to be claimed: newly created, answered after input_required, or returned for a retry. */
  submitted: { description: "Waiting to be claimed.", terminal: false, leasable: false, a2a: "SUBMITTED" },
  /** Someone is working on it: a leaseholding worker, or a person driving it without a lease. */
  working: { description: "In progress.", terminal: false, leasable: true, a2a: "WORKING" },
  /** Paused until a person answers its prompt with `POST /input`; holds no lease. */
  input_required: {
    description: "Waiting for a person's input.",
    terminal: false,
    leasable: false,
    a2a: "INPUT_REQUIRED",
  },
  /** Failed with recorded compensation steps still to undo; claimable for compensation work. */
  compensating: {
    description: "Undoing recorded compensation steps.",
    terminal: false,
    leasable: true,
    a2a: "WORKING",
  },
  /** Finished with a result. */
  completed: { description: "Finished with a result.", terminal: true, leasable: false, a2a: "COMPLETED" },
  /** Failed for good, with no compensation left pending. */
  failed: { description: "Failed for good.", terminal: true, leasable: false, a2a: "FAILED" },
  /** Canceled by someone with the cancel permission. */
  canceled: { description: "Canceled.", terminal: true, leasable: false, a2a: "CANCELED" },
  /** Failed, and every compensation step was undone. */
  compensated: {
    description: "Failed and fully compensated.",
    terminal: true,
    leasable: false,
    a2a: "FAILED",
  },
  /** Needs an operator: attempts exhausted without compensations, or a compensation failed for good. */
  quarantined: { description: "Needs an operator.", terminal: true, leasable: false, a2a: "FAILED" },
} as const;

export type TaskState = keyof typeof stateTable;
export type TerminalState = {
  [S in TaskState]: (typeof stateTable)[S]["terminal"] extends true ? S : never;
}[TaskState];

/** Names as values, so code says `taskState.working`, never the string. */
export const taskState = Object.fromEntries(Object.keys(stateTable).map((s) => [s, s])) as {
  readonly [S in TaskState]: S;
};
export const taskStates = Object.keys(stateTable) as [TaskState, ...TaskState[]];
export const terminalStates = taskStates.filter((s) => stateTable[s].terminal) as TerminalState[];
export const nonTerminalStates = taskStates.filter((s) => !stateTable[s].terminal);
/** States in which a worker may hold a lease (and so may lose one to the reclaimer). */
export const leasableStates = taskStates.filter((s) => stateTable[s].leasable);
export const isTerminal = (state: TaskState): state is TerminalState => stateTable[state].terminal;
export const a2aStateOf = (state: TaskState) => stateTable[state].a2a;
export type A2aState = (typeof stateTable)[TaskState]["a2a"];
/** The A2A states, each once, in table order. */
export const a2aStates = [...new Set(taskStates.map(a2aStateOf))] as [A2aState, ...A2aState[]];

/** Saga step statuses: recorded and not yet undone, undone, or failed for good. */
export const stepStatusTable = {
  pending: "Recorded; not undone yet.",
  done: "Undone.",
  failed: "Could not be undone; the task is quarantined.",
} as const;
export type StepStatus = keyof typeof stepStatusTable;
export const stepStatus = Object.fromEntries(Object.keys(stepStatusTable).map((s) => [s, s])) as {
  readonly [S in StepStatus]: S;
};
export const stepStatuses = Object.keys(stepStatusTable) as [StepStatus, ...StepStatus[]];
/** How a leaseholder resolves a step. */
export type StepOutcome = typeof stepStatus.done | typeof stepStatus.failed;

/**
 * Facts a rule may depend on, evaluated per row in SQL (`lifecycle-sql.ts` is handed their SQL):
 * attempts_left — attempts < max_attempts; compensation_attempts_left — the same for compensation
 * work; pending_steps — a step is still pending; other_pending_steps — one besides the step being
 * resolved; retryable — the caller said the failure is retryable (and attempts remain).
 */
export type Condition =
  | "attempts_left"
  | "compensation_attempts_left"
  | "pending_steps"
  | "other_pending_steps"
  | "retryable";

/** A rule: from these states (when the condition holds) the task moves to `to`. First match wins. */
export interface Rule {
  from: readonly TaskState[];
  when?: Condition;
  to: TaskState;
}

/**
 * How a verb treats the lease. required — only the leaseholder (owner, epoch, unexpired);
 * leaseholder_or_unleased — the leaseholder, or a person when no lease is held; ignored — anyone
 * permitted, lease or not; grants — the verb hands out a new lease (new epoch).
 */
export type LeaseRule = "required" | "leaseholder_or_unleased" | "ignored" | "grants";

export interface Verb {
  /** The event row each change writes (`task_events.type`). */
  event: string;
  lease: LeaseRule;
  rules: readonly Rule[];
}

const S = taskState;

/** Every verb that moves a task, its lease rule, the event it writes, and its rules in order. */
export const verbTable = {
  create: { event: "created", lease: "ignored", rules: [] },
  /** A working or compensating task is claimable only once its lease has expired (the lease rule). */
  claim: {
    event: "lease_granted",
    lease: "grants",
    rules: [
      { from: [S.compensating], when: "compensation_attempts_left", to: S.compensating },
      { from: [S.submitted], to: S.working },
      { from: [S.working], when: "attempts_left", to: S.working },
    ],
  },
  heartbeat: {
    event: "progress",
    lease: "required",
    rules: [
      { from: [S.working], to: S.working },
      { from: [S.compensating], to: S.compensating },
    ],
  },
  release: {
    event: "lease_released",
    lease: "required",
    rules: [
      { from: [S.compensating], to: S.compensating },
      { from: [S.working], to: S.submitted },
    ],
  },
  progress: {
    event: "progress",
    lease: "leaseholder_or_unleased",
    rules: [{ from: [S.submitted, S.working], to: S.working }],
  },
  require_input: {
    event: "input_required",
    lease: "leaseholder_or_unleased",
    rules: [{ from: [S.submitted, S.working], to: S.input_required }],
  },
  input: {
    event: "input_received",
    lease: "ignored",
    rules: [{ from: [S.input_required], to: S.submitted }],
  },
  complete: {
    event: "completed",
    lease: "leaseholder_or_unleased",
    rules: [{ from: [S.submitted, S.working], to: S.completed }],
  },
  fail: {
    event: "failed",
    lease: "leaseholder_or_unleased",
    rules: [
      { from: [S.submitted, S.working], when: "retryable", to: S.submitted },
      { from: [S.submitted, S.working], when: "pending_steps", to: S.compensating },
      { from: [S.submitted, S.working], to: S.failed },
    ],
  },
  cancel: {
    event: "canceled",
    lease: "ignored",
    rules: [{ from: nonTerminalStates, to: S.canceled }],
  },
  record_compensation: {
    event: "compensation_recorded",
    lease: "required",
    rules: [{ from: [S.working], to: S.working }],
  },
  compensation_done: {
    event: "compensation_done",
    lease: "required",
    rules: [
      { from: [S.compensating], when: "other_pending_steps", to: S.compensating },
      { from: [S.compensating], to: S.compensated },
    ],
  },
  compensation_retry: {
    event: "compensation_retry",
    lease: "required",
    rules: [{ from: [S.compensating], to: S.compensating }],
  },
  compensation_failed: {
    event: "compensation_failed",
    lease: "required",
    rules: [{ from: [S.compensating], to: S.quarantined }],
  },
  reclaim: {
    event: "lease_expired",
    lease: "ignored",
    rules: [
      { from: [S.working], when: "attempts_left", to: S.submitted },
      { from: [S.working], when: "pending_steps", to: S.compensating },
      { from: [S.working], to: S.quarantined },
      { from: [S.compensating], when: "compensation_attempts_left", to: S.compensating },
      { from: [S.compensating], to: S.quarantined },
    ],
  },
  /** Makes a new task (`to` is the copy's state) from a task that ended in failure. */
  redrive: {
    event: "created",
    lease: "ignored",
    rules: [{ from: [S.failed, S.quarantined], to: S.submitted }],
  },
} as const satisfies Record<string, Verb>;

export type VerbName = keyof typeof verbTable;

/** The states a verb may start from, in table order. */
export function fromStates(verb: VerbName): TaskState[] {
  const rules: readonly Rule[] = verbTable[verb].rules;
  return [...new Set(rules.flatMap((rule) => rule.from))];
}

/** The states a verb may end in. */
export function toStates(verb: VerbName): TaskState[] {
  const rules: readonly Rule[] = verbTable[verb].rules;
  return [...new Set(rules.map((rule) => rule.to))];
}

/** Where the verb takes a task in `state`, given which conditions hold; undefined when it may not start there. */
export function nextState(
  verb: VerbName,
  state: TaskState,
  holds: (condition: Condition) => boolean = () => false,
): TaskState | undefined {
  const rules: readonly Rule[] = verbTable[verb].rules;
  return rules.find((rule) => rule.from.includes(state) && (!rule.when || holds(rule.when)))?.to;
}

/** The initial state of a created task. */
export const initialState = S.submitted;
