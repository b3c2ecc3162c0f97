import { z } from "zod";
import { MisconfiguredError } from "../errors/domain-error.ts";

/** Rollout step of fine-grained authorization for one resource type (DESIGN §6). */
export const rolloutFlags = ["off", "dual_write", "shadow", "enforce"] as const;
export type RolloutFlag = (typeof rolloutFlags)[number];

// wrangler passes [vars] as strings or numbers; .dev.vars always as strings.
const integerVar = (fallback: number, min: number, max: number) =>
  z
    .union([z.number(), z.string().regex(/^\d+$/)])
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);

const rolloutFlag = z.enum(rolloutFlags).default("enforce");

// `host:port` of the local WebSocket-to-TCP bridge; only set for local development and tests.
const proxyAddress = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/);

/** A Workers Rate Limiting binding (`[[ratelimits]]` in wrangler.toml). */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

const rateLimitBinding = z
  .custom<RateLimitBinding>(
    (value) =>
      typeof value === "object" && value !== null && typeof (value as RateLimitBinding).limit === "function",
  )
  .optional();

// Plain http is for the local SpiceDB only; anywhere else the token would travel in clear.
const plainHttpAllowedIn = new Set(["development", "test"]);

export const bindingsSchema = z
  .object({
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/.+/),
    DATABASE_WS_PROXY: proxyAddress.optional(),
    DATABASE_TRANSPORT: z.enum(["http", "websocket"]).default("http"),
    ADMIN_TOKEN: z.string().min(24),
    ADMIN_TOKEN_NEXT: z.string().min(24).optional(),
    AUTHZ_BACKEND: z.enum(["postgres", "spicedb"]).default("postgres"),
    FGAC_AGENTS: rolloutFlag,
    FGAC_TASKS: rolloutFlag,
    FGAC_SCHEDULES: rolloutFlag,
    FGAC_API_KEYS: rolloutFlag,
    SPICEDB_URL: z.url({ protocol: /^https?$/ }).optional(),
    SPICEDB_TOKEN: z.string().min(1).optional(),
    DEFAULT_LEASE_SECONDS: integerVar(30, 1, 86_400),
    MAX_LEASE_SECONDS: integerVar(3600, 1, 86_400),
    DEFAULT_MAX_ATTEMPTS: integerVar(5, 1, 100),
    RETENTION_DAYS: integerVar(30, 1, 3650),
    IDEMPOTENCY_TTL_HOURS: integerVar(48, 1, 24 * 365),
    ENVIRONMENT: z.enum(["development", "test", "staging", "production"]).default("production"),
    RATE_LIMIT_BY_KEY: rateLimitBinding,
    RATE_LIMIT_BY_ADDRESS: rateLimitBinding,
    // The `simple.period` of both bindings: a binding cannot be asked for it, and it is the Retry-After.
    RATE_LIMIT_PERIOD_SECONDS: z
      .union([z.number(), z.string().regex(/^\d+$/)])
      .transform(Number)
      .pipe(z.union([z.literal(10), z.literal(60)]))
      .default(60),
    METRICS: z
      .custom<AnalyticsEngineDataset>((value) => typeof value === "object" && value !== null)
      .optional(),
  })
  .superRefine((value, ctx) => {
    if (value.DEFAULT_LEASE_SECONDS > value.MAX_LEASE_SECONDS) {
      ctx.addIssue({ code: "custom", path: ["DEFAULT_LEASE_SECONDS"], message: "exceeds MAX_LEASE_SECONDS" });
    }
    if (value.AUTHZ_BACKEND === "spicedb") {
      if (!value.SPICEDB_URL) ctx.addIssue({ code: "custom", path: ["SPICEDB_URL"], message: "required" });
      if (!value.SPICEDB_TOKEN)
        ctx.addIssue({ code: "custom", path: ["SPICEDB_TOKEN"], message: "required" });
    }
    if (
      value.SPICEDB_URL &&
      new URL(value.SPICEDB_URL).protocol === "http:" &&
      !plainHttpAllowedIn.has(value.ENVIRONMENT)
    ) {
      ctx.addIssue({ code: "custom", path: ["SPICEDB_URL"], message: "must be https" });
    }
  });

export type Bindings = z.input<typeof bindingsSchema>;

export interface Config {
  databaseUrl: string;
  databaseWsProxy: string | undefined;
  /** How single statements travel: Neon's HTTP query path, or the per-request WebSocket Pool. */
  databaseTransport: "http" | "websocket";
  adminToken: string;
  /** The rotation's incoming token (ADMIN_TOKEN_NEXT), accepted beside adminToken while set. */
  adminTokenNext: string | undefined;
  authzBackend: "postgres" | "spicedb";
  rollout: { agents: RolloutFlag; tasks: RolloutFlag; schedules: RolloutFlag; apiKeys: RolloutFlag };
  spicedb: { url: string; token: string } | undefined;
  lease: { defaultSeconds: number; maxSeconds: number };
  defaultMaxAttempts: number;
  retentionDays: number;
  /** Idempotency records older than this are purged by the cron. */
  idempotencyTtlHours: number;
  environment: "development" | "test" | "staging" | "production";
  metrics: AnalyticsEngineDataset | undefined;
  /** Unbound limiters impose no limit (local runs, tests); production binds both. */
  rateLimits: {
    byKey: RateLimitBinding | undefined;
    byAddress: RateLimitBinding | undefined;
    periodSeconds: 10 | 60;
  };
}

export function parseBindings(env: unknown): Config {
  const parsed = bindingsSchema.safeParse(env ?? {});
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? "(env)")))];
    throw new MisconfiguredError(names);
  }
  const b = parsed.data;
  return {
    databaseUrl: b.DATABASE_URL,
    databaseWsProxy: b.DATABASE_WS_PROXY,
    databaseTransport: b.DATABASE_TRANSPORT,
    adminToken: b.ADMIN_TOKEN,
    adminTokenNext: b.ADMIN_TOKEN_NEXT,
    authzBackend: b.AUTHZ_BACKEND,
    rollout: {
      agents: b.FGAC_AGENTS,
      tasks: b.FGAC_TASKS,
      schedules: b.FGAC_SCHEDULES,
      apiKeys: b.FGAC_API_KEYS,
    },
    spicedb: b.SPICEDB_URL && b.SPICEDB_TOKEN ? { url: b.SPICEDB_URL, token: b.SPICEDB_TOKEN } : undefined,
    lease: { defaultSeconds: b.DEFAULT_LEASE_SECONDS, maxSeconds: b.MAX_LEASE_SECONDS },
    defaultMaxAttempts: b.DEFAULT_MAX_ATTEMPTS,
    retentionDays: b.RETENTION_DAYS,
    idempotencyTtlHours: b.IDEMPOTENCY_TTL_HOURS,
    environment: b.ENVIRONMENT,
    metrics: b.METRICS,
    rateLimits: {
      byKey: b.RATE_LIMIT_BY_KEY,
      byAddress: b.RATE_LIMIT_BY_ADDRESS,
      periodSeconds: b.RATE_LIMIT_PERIOD_SECONDS,
    },
  };
}

// workerd hands every request of an isolate the same env object, so this parses once per
// isolate (per deploy); a failure is cached too, and every request answers `misconfigured`.
const parsedByEnv = new WeakMap<object, Config | MisconfiguredError>();

export function configFor(env: object): Config {
  let entry = parsedByEnv.get(env);
  if (!entry) {
    try {
      entry = parseBindings(env);
    } catch (error) {
      if (!(error instanceof MisconfiguredError)) throw error;
      entry = error;
    }
    parsedByEnv.set(env, entry);
  }
  if (entry instanceof MisconfiguredError) throw entry;
  return entry;
}
