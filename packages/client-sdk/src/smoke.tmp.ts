import { WebSocket } from "ws";
import { startServer } from "@sluice/server";
import { lowHashCost } from "@sluice/identity";
import { createClient } from "./index";
import { DispatchCommandService } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { DispatchQueryService } from "@sluice/contracts/gen/dispatch/v1/queries_pb";

const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: undefined, logLevel: "silent", webDist: "/nonexistent", hashCost: lowHashCost });
const res = await fetch(`${server.url}/auth/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "ana@acme.test", password: "dispatch" }) });
const { accessToken } = (await res.json()) as { accessToken: string };
const client = createClient({ url: `${server.url.replace(/^http/, "ws")}/ws`, token: accessToken, WebSocket: WebSocket as never });
client.onStateChange((s) => console.log("state", s));
const projects = await client.service(DispatchQueryService).listProjects({});
console.log(projects);
const projectId = projects.projects[0]!.projectId;
client.subscribe(`project:${projectId}`, { presence: true, onPublication: (p) => console.log("pub", p.offset, p.event.$typeName), onSubscribed: (i) => console.log("subscribed", i) });
const r = await client.service(DispatchCommandService).createOrder({ projectId, consignee: "X", address: "Y", weightKg: 3 });
console.log(r);
await new Promise((r) => setTimeout(r, 300));
try { await client.service(DispatchCommandService).createOrder({ projectId: "nope", consignee: "X", address: "Y", weightKg: 3 }); } catch (e) { console.log("err", e); }
await client.close();
await server.close();
