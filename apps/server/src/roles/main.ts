// The scale-out shape, one role per process: `tsx apps/server/src/roles/main.ts <role>`, where
// <role> is source-gateway, sink-gateway, domain-service, projector or auth, configured by the
// environment (docs/scaling.md). `... main.ts seed` writes the demo data once and exits.
import { PersonalDataConfigError } from "@sluice/event-store";
import { ConfigError, loadRoleConfig, startRoleFrom, type RoleConfig } from "./index";
import { loadSeedConfig } from "./config";
import { seedScaleOut } from "./seed";
import { stopOnSignals } from "../stop-on-signals";

const name = process.argv[2];

function refuse(error: unknown): never {
  // A bad environment or a master key that does not open the database: say so, without a stack.
  if (error instanceof ConfigError || error instanceof PersonalDataConfigError) {
    console.error(`Sluice ${name ?? ""} cannot start: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

if (name === "seed") {
  let config;
  try {
    config = loadSeedConfig();
  } catch (error) {
    refuse(error);
  }
  const demo = await seedScaleOut(config).catch(refuse);
  console.log(
    `seeded: organizations ${Object.keys(demo.organizations).join(", ")}; users ${Object.keys(demo.users).join(", ")}`,
  );
  process.exit(0);
}

let config: RoleConfig;
try {
  config = loadRoleConfig(name);
} catch (error) {
  refuse(error);
}
const running = await startRoleFrom(config).catch(refuse);
console.log(`${running.role} ready at ${running.url}`);

stopOnSignals(`${running.role}: `, () => running.close());
