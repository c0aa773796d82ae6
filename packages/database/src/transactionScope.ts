import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Catches a query on the database itself from inside one of its transactions. On PGlite that
 * query would wait for the transaction to end, forever; on a server it would run outside the
 * transaction. Both are bugs, so both backends throw the same error at once.
 */
export function createTransactionScope() {
  const scope = new AsyncLocalStorage<{ open: boolean }>();
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const state = { open: true };
      try {
        return await scope.run(state, fn);
      } finally {
        // Work the transaction started that runs after it ended may use the database again.
        state.open = false;
      }
    },
    assertOutside(): void {
      if (scope.getStore()?.open) {
        throw new Error("query on the database inside one of its transactions: use the transaction's `tx`");
      }
    },
  };
}
