import { sql } from "drizzle-orm";
import { probeAgent } from "../agents/repo.ts";
import { guard } from "../authz/guard.ts";
import { ConflictError, NotFoundError, RateLimitedError, ValidationError } from "../errors/domain-error.ts";
import type { ServiceContext } from "../lib/service-context.ts";
import { isTerminal, taskState } from "../lifecycle/task-lifecycle.ts";
import { toTaskView } from "../tasks/record.ts";
import { actorOf, probeUnder } from "../tasks/service.ts";
import { extendLease, probeHeartbeat } from "./heartbeat-repo.ts";
import { recordStaleLease } from "./refusal.ts";
import { acquireTask, claimTasks, type GrantedTask } from "./repo.ts";

export type Purpose = "work" | "compensation";

export interface ClaimInput {
  agent_id: string;
  worker_id: string;
  lease_seconds?: number | undefined;
  max_tasks?: number | undefined;
  types?: string[] | undefined;
  purposes?: Purpose[] | undefined;
}

/** TTLs are whole seconds within the deployment's bounds. */
export function leaseSeconds(ctx: ServiceContext, requested: number | undefined): number {
  const seconds = requested ?? ctx.config.lease.defaultSeconds;
  if (seconds < 1 || seconds > ctx.config.lease.maxSeconds) {
    throw new ValidationError([
      {
        location: "body",
        pointer: "/lease_seconds",
        message: `Must be between 1 and ${ctx.config.lease.maxSeconds}.`,
      },
    ]);
  }
  return seconds;
}

function granted(row: GrantedTask) {
  const { compensations, ...task } = row;
  return {
    task: {
      ...toTaskView(task),
      ...(row.state === taskState.compensating ? { compensations: compensations ?? [] } : {}),
    },
    lease: {
      worker_id: row.lease_owner as string,
      epoch: row.lease_epoch,
      expires_at: new Date(row.lease_expires_at as Date).toISOString(),
    },
  };
}

export function claim(ctx: ServiceContext, input: ClaimInput) {
  const purposes = input.purposes ?? ["work"];
  const need = { type: "agent", permission: "execute", ids: [input.agent_id] } as const;
  return guard(ctx, need, async (grant) => {
    const { tasks, agentUsable } = await claimTasks(ctx, {
      agentId: input.agent_id,
      workerId: input.worker_id,
      leaseSeconds: leaseSeconds(ctx, input.lease_seconds),
      maxTasks: input.max_tasks ?? 1,
      types: input.types,
      work: purposes.includes("work"),
      compensation: purposes.includes("compensation"),
      allowedOnAgent: grant.allowed,
    });
    if (!agentUsable) {
      const readable = await grant.readable();
      grant.refuseUnless(
        await probeAgent(ctx.db, ctx.principal.accountId, input.agent_id, readable, grant.allowed),
      );
    }
    return { items: tasks.map(granted) };
  });
}

export function acquire(ctx: ServiceContext, id: string, workerId: string, seconds: number | undefined) {
  return guard(ctx, { type: "task", permission: "update", ids: [id] }, async (grant) => {
    const row = await acquireTask(ctx, id, grant.allowed, {
      workerId,
      leaseSeconds: leaseSeconds(ctx, seconds),
    });
    if (row) return granted(row);
    const probe = await probeUnder(ctx, grant, { id });
    const state = probe.state;
    if (isTerminal(state)) throw new ConflictError("task_terminal", `The task is ${state}.`, { state });
    if (probe.lease_live) {
      throw new ConflictError("lease_held", "Another worker holds a live lease on this task.", { state });
    }
    throw new ConflictError(
      "invalid_state",
      `The task cannot be leased while ${state} with no attempts left.`,
      {
        state,
      },
    );
  });
}

export interface HeartbeatInput {
  worker_id: string;
  epoch: number;
  lease_seconds?: number | undefined;
  progress?: unknown;
}

export function heartbeat(ctx: ServiceContext, id: string, input: HeartbeatInput) {
  const seconds = leaseSeconds(ctx, input.lease_seconds);
  return guard(ctx, { type: "task", permission: "update", ids: [id] }, async (grant) => {
    const row = await extendLease(ctx, {
      id,
      workerId: input.worker_id,
      epoch: input.epoch,
      leaseSeconds: seconds,
      progress: input.progress,
      allowed: grant.allowed,
    });
    if (row) {
      return {
        expires_at: new Date(row.expires_at).toISOString(),
        epoch: row.epoch,
        cancel_requested: false,
      };
    }
    const accountId = ctx.principal.accountId;
    await probeUnder(ctx, grant, { id });
    const probe = await probeHeartbeat(ctx.db, accountId, id, seconds);
    if (!probe) throw new NotFoundError();
    const holds = probe.lease_owner === input.worker_id && probe.lease_epoch === input.epoch;
    // A canceled task tells its leaseholder to stop instead of failing its heartbeat.
    if (holds && probe.state === taskState.canceled) {
      const expires = probe.lease_expires_at ? new Date(probe.lease_expires_at).toISOString() : null;
      return { expires_at: expires, epoch: input.epoch, cancel_requested: true };
    }
    if (isTerminal(probe.state)) {
      throw new ConflictError("task_terminal", `The task is ${probe.state}.`, { state: probe.state });
    }
    if (!holds || !probe.lease_live) {
      await recordStaleLease(ctx.db, accountId, id, actorOf(ctx), {
        workerId: input.worker_id,
        epoch: input.epoch,
        action: "heartbeat",
      });
      throw new ConflictError(
        "lease_lost",
        "This lease is no longer valid: expired, released or taken over.",
        {
          state: probe.state,
        },
      );
    }
    if (!probe.extends) {
      throw new ConflictError("invalid_state", "The requested expiry is not later than the current one.", {
        state: probe.state,
        expires_at: probe.lease_expires_at ? new Date(probe.lease_expires_at).toISOString() : null,
      });
    }
    throw new RateLimitedError(
      `Heartbeat at most every ${Math.round((seconds / 6) * 10) / 10} s for a ${seconds} s lease.`,
      Math.max(1, Math.ceil(probe.wait_seconds)),
    );
  });
}
