import { startServer } from "@sluice/server";
import { lowHashCost } from "@sluice/identity";
const server = await startServer({
  port: 8089,
  host: "127.0.0.1",
  dataDir: undefined,
  logLevel: "warn",
  hashCost: lowHashCost,
});
console.log("up", server.url);
