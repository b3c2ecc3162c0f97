import { PayloadTooLargeError } from "../errors/domain-error.ts";

export const maxPayloadBytes = 128 * 1024;

/** `input` and `result` (and a person's answer) are capped below the 256 KiB body limit. */
export function assertPayloadSize(field: string, value: unknown): void {
  if (value === undefined) return;
  if (new TextEncoder().encode(JSON.stringify(value)).length > maxPayloadBytes) {
    throw new PayloadTooLargeError(`\`${field}\` exceeds 128 KiB.`);
  }
}
