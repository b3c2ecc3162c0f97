export * from "./accounts.ts";
export * from "./agents.ts";
export * from "./api-keys.ts";
export * from "./authz.ts";
export * from "./enums.ts";
export * from "./idempotency.ts";
export * from "./schedules.ts";
export * from "./tasks.ts";
