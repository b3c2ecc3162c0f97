export * from "./accounts.ts";
export * from "./api-keys.ts";
export * from "./enums.ts";
