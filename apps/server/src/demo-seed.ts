import { seedDemoDispatch } from "@sluice/dispatch";
import type { EventStore } from "@sluice/event-store";
import type { DemoSeed, Identity } from "@sluice/identity";

/** Idempotent: the demo organizations and users, and Acme's demo project in Dispatch. */
export async function seedDemo(identity: Pick<Identity, "seedDemo">, store: EventStore): Promise<DemoSeed> {
  const demo = await identity.seedDemo();
  await seedDemoDispatch({ store, ...dispatchSeedOf(demo) });
  return demo;
}

/** Whose the demo's Dispatch data is: Acme's, recorded as Ana's. */
export function dispatchSeedOf(demo: DemoSeed): { readonly organizationId: string; readonly userId: string } {
  const userId = demo.users["ana@acme.test"];
  if (!userId) throw new Error("the demo seed has no ana@acme.test");
  return { organizationId: demo.organizations.acme, userId };
}
