/** Defaults both sides agree on; the server announces its own in the Connected frame. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
export const DEFAULT_PING_INTERVAL_MS = 25_000;
