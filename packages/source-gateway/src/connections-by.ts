/**
 * Connections grouped by a key (a session id, a user id), so a revocation finds the sockets it
 * names without scanning every socket. A key with one connection (the common case: one socket
 * per session) holds the connection itself; a Set only from the second on, to keep the index
 * cheap per idle socket.
 */
export class ConnectionsBy<K, V extends object> {
  readonly #groups = new Map<K, V | Set<V>>();

  get size(): number {
    return this.#groups.size;
  }

  add(key: K, value: V): void {
    const group = this.#groups.get(key);
    if (group === undefined) this.#groups.set(key, value);
    else if (group instanceof Set) group.add(value);
    else if (group !== value) this.#groups.set(key, new Set([group, value]));
  }

  delete(key: K, value: V): void {
    const group = this.#groups.get(key);
    if (group === value) {
      this.#groups.delete(key);
    } else if (group instanceof Set && group.delete(value)) {
      if (group.size === 1) this.#groups.set(key, group.values().next().value!);
    }
  }

  /** A copy: the caller may close (and so remove) what it gets while going through it. */
  get(key: K): V[] {
    const group = this.#groups.get(key);
    if (group === undefined) return [];
    return group instanceof Set ? [...group] : [group];
  }

  keys(): IterableIterator<K> {
    return this.#groups.keys();
  }
}
