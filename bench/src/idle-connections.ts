// Process memory of the source gateway per idle, authenticated WebSocket connection.
//
//   npm run idle-connections -w @sluice/bench [-- --connections 10000]
import { create } from "@bufbuild/protobuf";
import { ClientFrameSchema } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { PROTOBUF_SUBPROTOCOL, protobufCodec } from "@sluice/protocol";
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { signIn } from "@sluice/server/test-support";
import { startEmbeddedServer } from "./embedded-server";

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

/** Memory the server reports through /metrics (prom-client's default Node.js metrics). */
async function heapAndExternal(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return read("nodejs_heap_size_used_bytes") + read("nodejs_external_memory_bytes");
}

/** Median of five samples a second apart, after the process settles. */
async function settledMemory(): Promise<{ rss: number; heap: number }> {
  await sleep(5000);
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < 5; i++) {
    rss.push(server.rssBytes());
    heap.push(await heapAndExternal());
    await sleep(1000);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[2]!;
  return { rss: median(rss), heap: median(heap) };
}

// The slope between two loads, not the difference from an empty process: the empty process
// still holds start-up garbage and PGlite's memory moves by tens of MiB on its own.
const first = Math.round(total / 5);
const sockets = await openMany(first, true);
const low = await settledMemory();
console.log(`${first} connections: RSS ${(low.rss / 2 ** 20).toFixed(1)} MiB`);
sockets.push(...(await openMany(total - first, true)));
const high = await settledMemory();
const added = total - first;
const result = {
  connections: total,
  rssMiBAt: { [first]: Math.round((low.rss / 2 ** 20) * 10) / 10, [total]: Math.round((high.rss / 2 ** 20) * 10) / 10 },
  rssBytesPerConnection: Math.round((high.rss - low.rss) / added),
  heapAndExternalBytesPerConnection: Math.round((high.heap - low.heap) / added),
};
console.log(
  `${total} idle connections: ${(result.rssBytesPerConnection / 1024).toFixed(2)} KiB RSS per connection, ` +
    `${(result.heapAndExternalBytesPerConnection / 1024).toFixed(2)} KiB of V8 heap and external memory`,
);

for (const socket of sockets) socket.terminate();
await server.stop();
mkdirSync(new URL("../results", import.meta.url), { recursive: true });
writeFileSync(
  new URL("../results/idle-connections.json", import.meta.url),
  JSON.stringify({ at: new Date().toISOString(), result }, null, 2) + "\n",
);
console.log("results written to bench/results/idle-connections.json");
