/** How long to wait before reconnect attempts: exponential growth between two bounds. */
export interface BackoffOptions {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minDelayMs: 500, maxDelayMs: 20_000 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry): "full jitter", drawn
 * uniformly between minDelayMs and a ceiling that doubles per attempt up to maxDelayMs, so a
 * server restart does not bring every client back in the same instant.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const { minDelayMs, maxDelayMs } = options;
  // 2 ** 31 is far past any useful ceiling; capping the exponent keeps the arithmetic finite.
  const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 31));
  return Math.round(minDelayMs + random() * (ceiling - minDelayMs));
}

/** Validated once when the client is created: nonsense bounds are a programming error. */
export function checkBackoff(options: BackoffOptions): BackoffOptions {
  const { minDelayMs, maxDelayMs } = options;
  if (!Number.isFinite(minDelayMs) || minDelayMs < 0)
    throw new RangeError(`reconnect.minDelayMs must be >= 0, got ${minDelayMs}`);
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < minDelayMs)
    throw new RangeError(`reconnect.maxDelayMs must be >= minDelayMs, got ${maxDelayMs}`);
  return { minDelayMs, maxDelayMs };
}
