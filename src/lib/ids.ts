// Ids are a prefix and 26 lowercase Crockford base32 characters: 48 bits of milliseconds then 80
// random bits, so ids sort by creation time (good B-tree locality, stable cursors) and can't be guessed.
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

export type IdPrefix = "acc" | "agt" | "tsk" | "sch" | "key" | "req" | "evt";

export function newId(prefix: IdPrefix, nowMs: number = Date.now()): string {
  let time = "";
  for (let value = nowMs, i = 0; i < 10; i++, value = Math.floor(value / 32)) {
    time = alphabet[value % 32] + time;
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let tail = "";
  for (const byte of random) tail += alphabet[byte % 32];
  return `${prefix}_${time}${tail}`;
}

export const idPattern = (prefix: IdPrefix) => new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`);

const patterns = new Map<IdPrefix, RegExp>();

/** Whether `value` is an id of this prefix's resource; anything else can name none of them. */
export function isId(prefix: IdPrefix, value: string): boolean {
  let pattern = patterns.get(prefix);
  if (!pattern) patterns.set(prefix, (pattern = idPattern(prefix)));
  return pattern.test(value);
}

/** When the id was made (ms since the epoch), read back from its first 10 characters. */
export function idCreatedAt(id: string): number | undefined {
  const time = /^[a-z]{3}_([0-9a-hjkmnp-tv-z]{10})/.exec(id)?.[1];
  if (!time) return undefined;
  let value = 0;
  for (const char of time) value = value * 32 + alphabet.indexOf(char);
  return value;
}
