/**
 * Task states (DESIGN §4), declared once: the pgEnum, the zod enum and the transitions map
 * below all derive from this list.
 */
export const taskStateDescriptions = {
  /** Waiting to be claimed: newly created, answered after input_required, or returned for a retry. */
  submitted: "Waiting to be claimed.",
  /** Someone is working on it: a leaseholding worker, or a person driving it without a lease. */
  working: "In progress.",
  /** Paused until a person answers its prompt with `POST /input`; holds no lease. */
  input_required: "Waiting for a person's input.",
  /** Failed with recorded compensation steps still to undo; claimable for compensation work. */
  compensating: "Undoing recorded compensation steps.",
  /** Terminal: finished with a result. */
  completed: "Finished with a result.",
  /** Terminal: failed for good, with no compensation left pending. */
  failed: "Failed for good.",
  /** Terminal: canceled by someone with the cancel permission. */
  canceled: "Canceled.",
  /** Terminal: failed, and every compensation step was undone. */
  compensated: "Failed and fully compensated.",
  /** Terminal: needs an operator — attempts exhausted without compensations, or a compensation failed for good. */
  quarantined: "Needs an operator.",
} as const;

export type TaskState = keyof typeof taskStateDescriptions;
export const taskStates = Object.keys(taskStateDescriptions) as [TaskState, ...TaskState[]];

export const terminalStates = ["completed", "failed", "canceled", "compensated", "quarantined"] as const;
export type TerminalState = (typeof terminalStates)[number];
export const nonTerminalStates = taskStates.filter(
  (state) => !(terminalStates as readonly string[]).includes(state),
) as TaskState[];

export function isTerminal(state: TaskState): state is TerminalState {
  return (terminalStates as readonly string[]).includes(state);
}

/** The A2A 1.0 state each task reports beside its precise `state`. */
export const a2aStates = {
  submitted: "SUBMITTED",
  working: "WORKING",
  compensating: "WORKING",
  input_required: "INPUT_REQUIRED",
  completed: "COMPLETED",
  failed: "FAILED",
  compensated: "FAILED",
  quarantined: "FAILED",
  canceled: "CANCELED",
} as const satisfies Record<TaskState, string>;

/**
 * Every transition a caller can ask for: the states it may start from and the states it may end
 * in. Each is one SQL statement whose WHERE lists `from`; tests enumerate this map.
 */
export const transitions = {
  claim: { from: ["submitted", "working", "compensating"], to: ["working", "compensating"] },
  heartbeat: { from: ["working", "compensating"], to: ["working", "compensating"] },
  release: { from: ["working", "compensating"], to: ["submitted", "compensating"] },
  progress: { from: ["submitted", "working"], to: ["working"] },
  input_required: { from: ["submitted", "working"], to: ["input_required"] },
  input: { from: ["input_required"], to: ["submitted"] },
  complete: { from: ["submitted", "working"], to: ["completed"] },
  fail: { from: ["submitted", "working"], to: ["failed", "submitted", "compensating"] },
  cancel: { from: nonTerminalStates, to: ["canceled"] },
  record_compensation: { from: ["working"], to: ["working"] },
  compensation_done: { from: ["compensating"], to: ["compensating", "compensated"] },
  compensation_failed: { from: ["compensating"], to: ["compensating", "quarantined"] },
  reclaim: { from: ["working", "compensating"], to: ["submitted", "compensating", "quarantined"] },
} as const satisfies Record<string, { from: readonly TaskState[]; to: readonly TaskState[] }>;

export type TransitionName = keyof typeof transitions;
