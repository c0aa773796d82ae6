// Process memory of the source gateway per idle, authenticated WebSocket connection.
//
//   npm run idle-connections -w @sluice/bench [-- --connections 10000]
import { create } from "@bufbuild/protobuf";
import { ClientFrameSchema } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { PROTOBUF_SUBPROTOCOL, protobufCodec } from "@sluice/protocol";
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { signIn, startEmbeddedServer } from "./embedded-server";

const { values: args } = parseArgs({
  options: { connections: { type: "string", default: "10000" }, batch: { type: "string", default: "250" } },
});
const total = Number(args.connections);
const batch = Number(args.batch);

const server = await startEmbeddedServer();
const token = await signIn(server.url, "ben@acme.test");
const pong = protobufCodec.encodeClient(create(ClientFrameSchema, { kind: { case: "pong", value: {} } }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(server.wsUrl, PROTOBUF_SUBPROTOCOL, { headers: { authorization: `Bearer ${token}` } });
    socket.binaryType = "nodebuffer";
    socket.once("error", reject);
    socket.on("message", (data: Buffer) => {
      const frame = protobufCodec.decodeServer(new Uint8Array(data));
      if (frame.kind.case === "connected") resolve(socket);
      if (frame.kind.case === "ping") socket.send(pong);
    });
  });
}

async function openMany(count: number, progress: boolean): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  while (sockets.length < count) {
    const size = Math.min(batch, count - sockets.length);
    sockets.push(...(await Promise.all(Array.from({ length: size }, open))));
    if (progress) process.stdout.write(`\r  open ${sockets.length}/${count}`);
  }
  if (progress) process.stdout.write("\n");
  return sockets;
}

// Warm up: code paths compiled, pools and buffers allocated, so the baseline is not the cold process.
const warm = await openMany(Math.min(500, total), false);
for (const socket of warm) socket.close();
await sleep(3000);
const baseline = server.rssBytes();
console.log(`baseline RSS ${(baseline / 2 ** 20).toFixed(1)} MiB; opening ${total} connections`);

const sockets = await openMany(total, true);
await sleep(5000);
const loaded = server.rssBytes();
const perConnection = (loaded - baseline) / total;
const result = {
  connections: total,
  baselineRssMiB: Math.round((baseline / 2 ** 20) * 10) / 10,
  loadedRssMiB: Math.round((loaded / 2 ** 20) * 10) / 10,
  bytesPerConnection: Math.round(perConnection),
};
console.log(`${total} idle connections: RSS ${result.loadedRssMiB} MiB, ${(perConnection / 1024).toFixed(2)} KiB per connection`);

for (const socket of sockets) socket.terminate();
await server.stop();
mkdirSync(new URL("../results", import.meta.url), { recursive: true });
writeFileSync(
  new URL("../results/idle-connections.json", import.meta.url),
  JSON.stringify({ at: new Date().toISOString(), result }, null, 2) + "\n",
);
console.log("results written to bench/results/idle-connections.json");
