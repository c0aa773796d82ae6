import { createEventStore } from "@sluice/event-store";
import { createIdentity, type DemoSeed, type HashCost } from "@sluice/identity";
import { Cleanups } from "../cleanups";
import { seedDemo } from "../demo-seed";
import type { SeedConfig } from "./config";
import { openPostgres } from "./role-process";

/**
 * The demo organizations, users and project, written once into a scale-out deployment's database
 * (idempotent). A job of its own, not a role's start: in the embedded shape the one process seeds;
 * here no role owns both identity and the event store.
 */
export async function seedScaleOut(config: SeedConfig, hashCost?: HashCost): Promise<DemoSeed> {
  const cleanups = new Cleanups({ error: (object, message) => console.error(message, object) });
  try {
    const db = await openPostgres(config.database, cleanups);
    const store = await createEventStore(db, { personalData: { masterKey: config.personalDataKey } });
    const identity = await createIdentity({ db, hashCost });
    cleanups.push(async () => identity.close());
    return await seedDemo(identity, store);
  } finally {
    await cleanups.run();
  }
}
