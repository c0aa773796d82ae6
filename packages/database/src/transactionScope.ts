import { AsyncLocalStorage } from "node:async_hooks";
import type { Database, Queryable, QueryOptions } from "./database";

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

/** What a backend provides; `guardedDatabase` adds the scope check around it. */
export interface DatabaseBackend {
  readonly kind: Database["kind"];
  /** Queries outside any transaction. */
  readonly outside: Queryable;
  /** Runs `body` in a transaction of the backend's own, with a `tx` bound to it. */
  transaction<T>(body: (tx: Queryable) => Promise<T>): Promise<T>;
  tryLease: Database["tryLease"];
  listen: Database["listen"];
  notify: Database["notify"];
  close(): Promise<void>;
}

/** The Database over a backend: its own query, exec and transaction refuse to run inside a transaction. */
export function guardedDatabase(backend: DatabaseBackend): Database {
  const scope = createTransactionScope();
  return {
    kind: backend.kind,
    async query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
      scope.assertOutside();
      return backend.outside.query<R>(sql, params, options);
    },
    async exec(sql: string) {
      scope.assertOutside();
      return backend.outside.exec(sql);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      scope.assertOutside();
      return backend.transaction((tx) => scope.run(() => fn(tx)));
    },
    // Not a query of the database's: a lease has a connection of its own, so it may be taken anywhere.
    tryLease: (name, options) => backend.tryLease(name, options),
    listen: (channel, listener) => backend.listen(channel, listener),
    async notify(channel, payload) {
      scope.assertOutside();
      return backend.notify(channel, payload);
    },
    close: () => backend.close(),
  };
}
