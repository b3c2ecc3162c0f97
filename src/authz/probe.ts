import { ForbiddenError, NotFoundError } from "../errors/domain-error.ts";

/** What a follow-up read after a zero-row statement learned about the caller's access. */
export type AccessProbe = {
  readable: boolean;
  permitted: boolean;
};

/**
 * Turns a probe into the answer the caller may see: missing, foreign and unreadable are one 404;
 * readable but not permitted is 403. Returns normally when the caller was permitted (so the
 * zero rows came from the resource's state).
 */
export function assertPermitted(probe: AccessProbe | undefined): void {
  if (!probe || !probe.readable) throw new NotFoundError();
  if (!probe.permitted) throw new ForbiddenError();
}
