/**
 * SIGTERM and SIGINT drain and stop the process once: a second signal while it drains changes
 * nothing. Exits 0 when `close` resolves, 1 when it fails.
 */
export function stopOnSignals(label: string, close: () => Promise<void>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${label}${signal}: draining and stopping`);
    try {
      await close();
      process.exit(0);
    } catch (error) {
      console.error(error);
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
