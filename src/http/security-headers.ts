import { secureHeaders } from "hono/secure-headers";

/**
 * Headers on every response, errors included. The API answers JSON, so the default policy lets a
 * response load nothing and be framed by nobody; a page that needs more (`/docs`) sets its own
 * Content-Security-Policy, which is kept (`overwrite: false`).
 */
export const securityHeaders = secureHeaders({
  contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
  xFrameOptions: "DENY",
  overwrite: false,
});
