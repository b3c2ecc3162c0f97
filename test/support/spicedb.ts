import { inject } from "vitest";
import { randomHex } from "../../src/lib/crypto.ts";

export interface SpiceDbFault {
  /** SpiceDB API path, e.g. `/v1/relationships/write`. */
  path: string;
  /** gRPC code to answer with (its HTTP status follows); omit to only delay. */
  code?: number;
  delay_ms?: number;
  /** How many requests get the fault (default 1). */
  count?: number;
  /** How many requests pass untouched first (default 0). */
  skip?: number;
}

/**
 * A SpiceDB of this test file's own (a tenant of the JSON server the global setup started),
 * with bindings that point the Worker at it, and the test-only controls.
 */
export function spicedbForFile() {
  const url = `${inject("spicedbUrl")}/t/${randomHex(8)}`;
  const token = inject("spicedbToken");
  const post = async (path: string, body: unknown = {}) => {
    const response = await fetch(`${url}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`SpiceDB test server ${path}: ${response.status}`);
    return response.json() as Promise<Record<string, unknown>>;
  };
  return {
    url,
    token,
    bindings: { AUTHZ_BACKEND: "spicedb", SPICEDB_URL: url, SPICEDB_TOKEN: token },
    reset: () => post("/__test/reset"),
    fault: (fault: SpiceDbFault) => post("/__test/faults", fault),
    calls: () => post("/__test/calls") as Promise<Record<string, number>>,
    /** The last request body the server received per API path. */
    last: () => post("/__test/last") as Promise<Record<string, Record<string, unknown>>>,
    /** Every relationship whose resource is of `type`, as `type:id#relation@subjectType:subjectId`. */
    async edges(type: string): Promise<string[]> {
      const response = await fetch(`${url}/v1/relationships/read`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({
          consistency: { fullyConsistent: true },
          relationshipFilter: { resourceType: type },
        }),
      });
      const text = await response.text();
      return text
        .split("\n")
        .filter((line) => line.trim())
        .map((line) => {
          const r = (JSON.parse(line) as { result: { relationship: Rel } }).result.relationship;
          return `${r.resource.objectType}:${r.resource.objectId}#${r.relation}@${r.subject.object.objectType}:${r.subject.object.objectId}`;
        })
        .sort();
    },
  };
}

type Rel = {
  resource: { objectType: string; objectId: string };
  relation: string;
  subject: { object: { objectType: string; objectId: string } };
};
