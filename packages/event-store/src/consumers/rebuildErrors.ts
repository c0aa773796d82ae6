// What can stop a projection rebuild, as errors a caller can tell apart.

/** A projection asked for by name that the caller does not run. */
export class UnknownProjectionError extends Error {
  override readonly name = "UnknownProjectionError";
  constructor(
    readonly projection: string,
    readonly known: readonly string[],
  ) {
    super(`unknown projection ${JSON.stringify(projection)}; known: ${known.join(", ") || "none"}`);
  }
}

/**
 * Another rebuild of the same projection moved the place this one was building from (one was
 * started over or resumed elsewhere): this one stops, having changed nothing that is live.
 */
export class RebuildConflictError extends Error {
  override readonly name = "RebuildConflictError";
  constructor(readonly projection: string) {
    super(`another rebuild of ${projection} took over its schema; only one runs at a time`);
  }
}
