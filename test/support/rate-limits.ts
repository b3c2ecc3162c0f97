/** Requests per minute per API key and per client address in the workers suite (vitest.config.ts). */
export const workersSuiteRateLimit = 25;
