// `npm start`: the embedded shape in one process.
import { PersonalDataConfigError } from "@sluice/event-store";
import { ConfigError, loadConfig } from "./config";
import { startServer } from "./server";
import { stopOnSignals } from "./stop-on-signals";

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Sluice cannot start: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const server = await startServer(config).catch((error: unknown) => {
  // A master key that does not open this database's personal data: say so, without a stack.
  if (error instanceof PersonalDataConfigError) {
    console.error(`Sluice cannot start: ${error.message}`);
    process.exit(1);
  }
  throw error;
});
console.log(`
Dispatch is running at ${server.url}

Sign in with ana@acme.test or ben@acme.test, password "dispatch"
(vera@acme.test is a viewer; gina@globex.test belongs to another organization).
`);

stopOnSignals("", () => server.close());
