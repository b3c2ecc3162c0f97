/**
 * Tokens that recently failed authentication, so a repeated unknown or revoked key is answered 401
 * without a database round trip (DESIGN §14). Per isolate, bounded in size and age. Entries are
 * digests of the whole presented token: a wrong secret for a real key id never blocks the right
 * token. Nothing here ever says a token is valid, so revocation stays immediate.
 */
export interface NegativeCache {
  has(tokenDigest: string): boolean;
  add(tokenDigest: string): void;
  readonly size: number;
}

export interface NegativeCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  clock?: () => number;
}

export const negativeCacheDefaults = { ttlMs: 60_000, maxEntries: 4096 } as const;

export function createNegativeCache(options: NegativeCacheOptions = {}): NegativeCache {
  const ttlMs = options.ttlMs ?? negativeCacheDefaults.ttlMs;
  const maxEntries = options.maxEntries ?? negativeCacheDefaults.maxEntries;
  const clock = options.clock ?? Date.now;
  // Insertion order is expiry order (one TTL for all), so the oldest entry is always first.
  const expiries = new Map<string, number>();
  return {
    has(digest) {
      const expiresAt = expiries.get(digest);
      if (expiresAt === undefined) return false;
      if (expiresAt > clock()) return true;
      expiries.delete(digest);
      return false;
    },
    add(digest) {
      expiries.delete(digest);
      const now = clock();
      for (const [oldest, expiresAt] of expiries) {
        if (expiries.size < maxEntries && expiresAt > now) break;
        expiries.delete(oldest);
      }
      expiries.set(digest, now + ttlMs);
    },
    get size() {
      return expiries.size;
    },
  };
}
