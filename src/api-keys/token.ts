import { randomHex, sha256 } from "../lib/crypto.ts";

// `lh_<key id>_<64 hex>`; the id part has a fixed shape, so the split is unambiguous.
const tokenPattern = /^lh_(key_[0-9a-hjkmnp-tv-z]{26})_([0-9a-f]{64})$/;

export interface IssuedToken {
  token: string;
  secretHash: Uint8Array;
}

export async function issueToken(keyId: string): Promise<IssuedToken> {
  const secret = randomHex(32);
  return { token: `lh_${keyId}_${secret}`, secretHash: await sha256(secret) };
}

export function parseToken(token: string): { keyId: string; secret: string } | undefined {
  const match = tokenPattern.exec(token);
  return match ? { keyId: match[1] as string, secret: match[2] as string } : undefined;
}
