/**
 * What a schedule's due instant does while its previous run is still live (not terminal),
 * declared once for the pgEnum, the zod enum and the firing job (DESIGN §7). It lives beside the
 * task lifecycle because the schema reads it and src/db imports nothing above itself.
 */
export const overlapPolicies = [
  /** Spawn nothing while the previous run is live; the instant counts in `missed_fires`. */
  "skip",
  /** Spawn every due instant, whether or not earlier runs have finished. */
  "allow",
  /** Keep the most recent due instant and spawn it once the previous run is terminal. */
  "buffer_one",
] as const;

export type OverlapPolicy = (typeof overlapPolicies)[number];
