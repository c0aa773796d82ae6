import { MemoryPresenceStore } from "./memory-presence-store";
import { presenceStoreContract } from "./presence-store-contract";

// One process sees every connection: both "nodes" are the one store.
presenceStoreContract("MemoryPresenceStore", async () => {
  const store = new MemoryPresenceStore();
  return { one: store, two: store, close: async () => {} };
});
