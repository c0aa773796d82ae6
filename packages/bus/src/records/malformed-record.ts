/**
 * A record on a bus topic that is not what the topic carries: undecodable bytes, an unknown event
 * type or method. Consumers log it and move past it; it never stops them.
 */
export class MalformedRecordError extends Error {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`malformed bus record: ${what}`, options);
    this.name = "MalformedRecordError";
  }
}

/** Runs a decoder, turning whatever it throws into a MalformedRecordError. */
export function decoding<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof MalformedRecordError) throw error;
    throw new MalformedRecordError(`${what} does not decode`, { cause: error });
  }
}
