import { decrypt, encrypt } from "./aesGcm";

/**
 * How a sealed personal field is stored: in the field itself, so the event keeps its type and its
 * JSON mapping. The prefix names the format; a value without it was stored before encryption
 * existed (decision 0009) and reads as it is.
 */
const prefix = "pd1:";

export const isSealed = (value: string): boolean => value.startsWith(prefix);

export function sealText(dataKey: Uint8Array, plaintext: string): string {
  return prefix + encrypt(dataKey, Buffer.from(plaintext, "utf8")).toString("base64");
}

/** The plaintext, or undefined when the value does not open under `dataKey`. */
export function openText(dataKey: Uint8Array, sealed: string): string | undefined {
  return decrypt(dataKey, Buffer.from(sealed.slice(prefix.length), "base64"))?.toString("utf8");
}
