import type { Lease } from "./lease";

/**
 * Leases for a database only this process reaches (PGlite): a name held in memory, per database.
 * Nothing can lose one but closing the database (`closeAll`).
 */
export function memoryLeases() {
  const held = new Map<string, AbortController>();
  return {
    async tryLease(name: string): Promise<Lease | undefined> {
      if (held.has(name)) return undefined;
      const lost = new AbortController();
      held.set(name, lost);
      return {
        name,
        lost: lost.signal,
        async release() {
          if (held.get(name) === lost) held.delete(name);
        },
      };
    },
    closeAll(): void {
      for (const [name, lost] of held) {
        held.delete(name);
        lost.abort(new Error("the database was closed"));
      }
    },
  };
}
