// Walks every (state, verb) pair of src/lifecycle/task-lifecycle.ts against the real database
// through the real app: a task is put into the state with one fixture UPDATE, the verb is called
// over HTTP (or the cron reclaim), and the outcome must be what `nextState` says.
import { beforeAll, describe, expect, it } from "vitest";
import { cronJobs } from "../../src/cron/jobs.ts";
import { runTick } from "../../src/cron/tick.ts";
import {
  type Condition,
  fromStates,
  initialState,
  isTerminal,
  nextState,
  stateTable,
  type TaskState,
  taskState,
  taskStates,
  toStates,
  type VerbName,
  verbTable,
} from "../../src/lifecycle/task-lifecycle.ts";
import { createAccountWithPrincipal, type TestPrincipal } from "../support/factories.ts";
import { queryRows } from "../support/graph.ts";
import { callAs, createAgent, createTask, type Json } from "../support/task-factories.ts";
import { useTestApp } from "../support/test-app.ts";

const worker = "table-worker";
const fixtureEpoch = 1;
const fixtureStepSeq = 1;
const maxAttempts = 3;

/** What a fixture makes true; `holdsFor` turns it into the table's conditions. */
interface Facts {
  attemptsLeft: boolean;
  compensationAttemptsLeft: boolean;
  pendingSteps: boolean;
  /** The caller says the failure is retryable. */
  retryable: boolean;
  /** The lease is held but expired (reclaim, and claim, which takes over an expired lease). */
  leaseExpired: boolean;
}

const holdsFor =
  (facts: Facts) =>
  (condition: Condition): boolean =>
    ({
      attempts_left: facts.attemptsLeft,
      compensation_attempts_left: facts.compensationAttemptsLeft,
      pending_steps: facts.pendingSteps,
      other_pending_steps: false,
      retryable: facts.retryable && facts.attemptsLeft,
    })[condition];

const defaultFacts = (verb: VerbName, state: TaskState): Facts => ({
  attemptsLeft: true,
  compensationAttemptsLeft: true,
  pendingSteps: state === taskState.compensating,
  retryable: false,
  leaseExpired: verb === "reclaim" || verbTable[verb].lease === "grants",
});

type Call = ReturnType<typeof callAs>;
interface VerbContext {
  id: string;
  agentId: string;
  facts: Facts;
  call: Call;
  env: Record<string, unknown>;
  /** The lease part of the body, from the verb's lease rule and whether the fixture holds a lease. */
  lease: Json;
}
interface Answer {
  status: number;
  body: Json;
  headers?: Headers;
}
interface VerbCall {
  run(context: VerbContext): Promise<Answer>;
  /** The verb makes a new task (its id is in the answer) instead of moving this one. */
  makesTask?: true;
  /** Not an HTTP request: there is no 409 to look at when it may not start. */
  background?: true;
  /**
   * Re-sending the outcome of a task the verb already finished is answered with the task (same
   * payload) or `result_conflict` (a different one), not `task_terminal` (refusal.ts).
   */
  replaysOutcome?: true;
}

const post = (context: VerbContext, path: string, body: Json = {}) =>
  context.call("POST", `/v1/tasks/${context.id}${path}`, { ...body, ...context.lease });

/** One entry per verb in verbTable: how to ask the app for it. */
const verbCalls: Record<VerbName, VerbCall> = {
  create: {
    makesTask: true,
    run: (c) => c.call("POST", "/v1/tasks", { agent_id: c.agentId, type: "summarize" }),
  },
  claim: { run: (c) => post(c, "/lease", { lease_seconds: 60 }) },
  heartbeat: { run: (c) => post(c, "/heartbeat", { lease_seconds: 3600, progress: { beat: 1 } }) },
  release: { run: (c) => post(c, "/release") },
  progress: { run: (c) => post(c, "/progress", { progress: { percent: 50 } }) },
  require_input: { run: (c) => post(c, "/input-required", { prompt: "Which region?" }) },
  input: { run: (c) => post(c, "/input", { input: { region: "eu" } }) },
  complete: {
    replaysOutcome: true,
    run: (c) => post(c, "/complete", { result: { ok: true } }),
  },
  fail: {
    replaysOutcome: true,
    run: (c) => post(c, "/fail", { error: "boom", retryable: c.facts.retryable }),
  },
  cancel: {
    replaysOutcome: true,
    run: (c) => post(c, "/cancel", { reason: "not needed" }),
  },
  record_compensation: { run: (c) => post(c, "/compensations", { kind: "refund", target: "charge_1" }) },
  compensation_done: { run: (c) => post(c, `/compensations/${fixtureStepSeq}/done`) },
  compensation_retry: {
    run: (c) => post(c, `/compensations/${fixtureStepSeq}/failed`, { error: "timeout", retryable: true }),
  },
  compensation_failed: { run: (c) => post(c, `/compensations/${fixtureStepSeq}/failed`, { error: "gone" }) },
  reclaim: {
    background: true,
    run: async (c) => {
      const reclaim = cronJobs.filter((job) => job.name === "reclaim");
      return { status: 200, body: await runTick(c.env, new Date(), { jobs: reclaim, logSink: () => {} }) };
    },
  },
  redrive: { makesTask: true, run: (c) => post(c, "/redrive") },
};

/** The lease part of a verb's body: the fixture's token, a worker to grant to, or nothing (a person). */
function leaseBodyFor(verb: VerbName, state: TaskState): Json {
  const token = { worker_id: worker, epoch: fixtureEpoch };
  switch (verbTable[verb].lease) {
    case "required":
      return token;
    case "leaseholder_or_unleased":
      return stateTable[state].leasable ? token : {};
    case "grants":
      return { worker_id: worker };
    case "ignored":
      return {};
  }
}

interface Case {
  verb: VerbName;
  state: TaskState;
  facts: Facts;
}

const verbs = Object.keys(verbTable) as VerbName[];
/** Verbs that start from a state; the others (create) make a task from nothing. */
const movingVerbs = verbs.filter((verb) => fromStates(verb).length > 0);
const creatingVerbs = verbs.filter((verb) => fromStates(verb).length === 0);

const flipped = (verb: VerbName, state: TaskState, changes: Partial<Facts>): Case => ({
  verb,
  state,
  facts: { ...defaultFacts(verb, state), ...changes },
});
const extraCases: Case[] = [
  flipped("fail", taskState.submitted, { retryable: true }),
  flipped("fail", taskState.working, { retryable: true }),
  flipped("fail", taskState.working, { retryable: true, attemptsLeft: false }),
  flipped("fail", taskState.submitted, { pendingSteps: true }),
  flipped("fail", taskState.working, { pendingSteps: true }),
  flipped("fail", taskState.working, { pendingSteps: true, retryable: true }),
  flipped("reclaim", taskState.working, { attemptsLeft: false }),
  flipped("reclaim", taskState.working, { attemptsLeft: false, pendingSteps: true }),
  flipped("reclaim", taskState.compensating, { compensationAttemptsLeft: false }),
  flipped("claim", taskState.working, { attemptsLeft: false }),
  flipped("claim", taskState.compensating, { compensationAttemptsLeft: false }),
];

const describeFacts = (c: Case) => {
  const base = defaultFacts(c.verb, c.state);
  const changed = (Object.keys(c.facts) as (keyof Facts)[]).filter((key) => c.facts[key] !== base[key]);
  return changed.length ? ` (${changed.map((key) => `${key}=${c.facts[key]}`).join(", ")})` : "";
};
/**
 * The 409 codes a refused verb may answer: `task_terminal` for a finished task, except a re-sent
 * outcome of the verb that finished it, and a verb that makes a new task (the source is only read).
 */
function refusalCodes(c: Case, verbCall: VerbCall): string[] {
  if (!isTerminal(c.state) || verbCall.makesTask) return ["invalid_state", "lease_lost", "lease_held"];
  if (verbCall.replaysOutcome && toStates(c.verb).includes(c.state)) return ["result_conflict"];
  return ["task_terminal"];
}

const expectedOf = (c: Case) => nextState(c.verb, c.state, holdsFor(c.facts));
const caseName = (c: Case) =>
  `${c.verb} from ${c.state}${describeFacts(c)} → ${expectedOf(c) ?? "refused, state unchanged"}`;

describe("the lifecycle table against the database", () => {
  const testApp = useTestApp();
  const scope = {} as { owner: TestPrincipal; call: Call; agentId: string };

  beforeAll(async () => {
    scope.owner = await createAccountWithPrincipal(testApp.client);
    scope.agentId = await createAgent(testApp.client, scope.owner);
    scope.call = callAs(testApp.client, scope.owner);
  });

  /** A task created through the API, then put into `state` with one fixture UPDATE. */
  async function taskIn(state: TaskState, facts: Facts): Promise<string> {
    const taskId = await createTask(testApp.client, scope.owner, scope.agentId, {
      max_attempts: maxAttempts,
    });
    const leased = stateTable[state].leasable;
    await queryRows(
      testApp.database,
      `UPDATE tasks SET state = $2::task_state,
         lease_owner = CASE WHEN $3 THEN $4 END, lease_epoch = CASE WHEN $3 THEN $5::bigint ELSE 0 END,
         lease_expires_at = CASE WHEN $3 THEN now() + CASE WHEN $6 THEN interval '-1 minute' ELSE interval '1 hour' END END,
         last_heartbeat_at = now() - interval '1 hour',
         attempts = $7, compensation_attempts = $8, compensation_seq = CASE WHEN $9 THEN $10 ELSE 0 END,
         finished_at = CASE WHEN $11 THEN now() END
       WHERE id = $1`,
      [
        taskId,
        state,
        leased,
        worker,
        fixtureEpoch,
        facts.leaseExpired,
        facts.attemptsLeft ? 1 : maxAttempts,
        facts.compensationAttemptsLeft ? 1 : maxAttempts,
        facts.pendingSteps,
        fixtureStepSeq,
        isTerminal(state),
      ],
    );
    if (facts.pendingSteps) {
      await queryRows(
        testApp.database,
        `INSERT INTO task_compensations (task_id, seq, account_id, kind, target, recorded_epoch)
         SELECT id, $2, account_id, 'refund', 'charge_1', $3 FROM tasks WHERE id = $1`,
        [taskId, fixtureStepSeq, fixtureEpoch],
      );
    }
    return taskId;
  }

  const stateOf = async (id: string) => (await scope.call("GET", `/v1/tasks/${id}`)).body.state;
  const eventsOf = async (id: string) => {
    const events = await scope.call("GET", `/v1/tasks/${id}/events?limit=200`);
    return (events.body.items as { type: string }[]).map((event) => event.type);
  };
  const newestEventOf = async (id: string) => (await eventsOf(id)).at(-1);

  async function runCase(c: Case) {
    const id = await taskIn(c.state, c.facts);
    const eventsBefore = (await eventsOf(id)).length;
    const verbCall = verbCalls[c.verb];
    expect(verbCall, `verbCalls has no entry for ${c.verb}`).toBeDefined();
    const answer = await verbCall.run({
      id,
      agentId: scope.agentId,
      facts: c.facts,
      call: scope.call,
      env: testApp.client.env,
      lease: leaseBodyFor(c.verb, c.state),
    });
    const expected = expectedOf(c);
    if (expected) {
      expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
      const moved = verbCall.makesTask ? (answer.body.id as string) : id;
      expect(await stateOf(moved)).toBe(expected);
      expect(await newestEventOf(moved)).toBe(verbTable[c.verb].event);
      return;
    }
    if (!verbCall.background) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(409);
      expect(answer.headers?.get("content-type")).toContain("application/problem+json");
      expect(refusalCodes(c, verbCall)).toContain(answer.body.code);
    }
    expect(await stateOf(id)).toBe(c.state);
    expect((await eventsOf(id)).slice(eventsBefore)).not.toContain(verbTable[c.verb].event);
  }

  it("has an HTTP call for every verb in verbTable", () => {
    expect(verbs.filter((verb) => !(verb in verbCalls))).toEqual([]);
  });

  describe.each(creatingVerbs)("%s", (verb) => {
    it(`makes a task in ${initialState} with a ${verbTable[verb].event} event`, async () => {
      const facts = defaultFacts(verb, initialState);
      const context = { id: "", agentId: scope.agentId, facts, call: scope.call, env: testApp.client.env };
      const answer = await verbCalls[verb].run({ ...context, lease: {} });
      expect(answer.status).toBe(201);
      expect(await stateOf(answer.body.id as string)).toBe(initialState);
      expect(await newestEventOf(answer.body.id as string)).toBe(verbTable[verb].event);
    });
  });

  describe.each(movingVerbs)("%s", (verb) => {
    const cases = taskStates.map((state): Case => ({ verb, state, facts: defaultFacts(verb, state) }));
    it.each(cases.map((c) => [caseName(c), c] as const))("%s", (_name, c) => runCase(c));
  });

  describe("with other facts", () => {
    it.each(extraCases.map((c) => [caseName(c), c] as const))("%s", (_name, c) => runCase(c));
  });
});
