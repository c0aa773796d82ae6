// A command's share of one group-commit batch on PGlite, by batch size (decision 0008): how large
// PGlite batches should grow. In process, in memory, Dispatch-shaped commands: one OrderCreated
// on a new stream, with and without a guard on one shared project stream.
//
//   npm run pglite-batch-size -w @sluice/bench [-- --sizes 1,5,10,20,40,80,160 --warm 2000]
//
// Each size runs enough batches for ~400 commands; the median per command is printed.
import { create } from "@bufbuild/protobuf";
import { CommandAcceptedSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { OrderCreatedSchema } from "@sluice/contracts/gen/dispatch/v1/events_pb";
import { openDatabase } from "@sluice/database";
import { createEventStore } from "@sluice/event-store";
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { sizes: { type: "string", default: "1,5,10,20,40,80,160" }, warm: { type: "string", default: "2000" } },
});
const sizes = args.sizes.split(",").map(Number);
if (sizes.some((size) => !Number.isInteger(size) || size < 1)) throw new Error("--sizes: positive integers");

const db = await openDatabase({ kind: "pglite" });
const store = await createEventStore(db, { maxAppendBatch: Math.max(...sizes) });
const organizationId = randomUUID();
const projectId = randomUUID();

function createOrder(guarded: boolean) {
  const orderId = randomUUID();
  return store.append({
    organizationId,
    metadata: { commandId: randomUUID(), userId: "bench", correlationId: randomUUID() },
    appends: [
      {
        streamId: `order-${orderId}`,
        streamType: "dispatch.order",
        expectedVersion: "no_stream",
        events: [create(OrderCreatedSchema, { orderId, projectId, consignee: "", address: "", weightKg: 10 })],
      },
      ...(guarded
        ? [
            {
              streamId: `project-${projectId}`,
              streamType: "dispatch.project",
              expectedVersion: "any" as const,
              events: [],
            },
          ]
        : []),
    ],
    result: create(CommandAcceptedSchema, {}),
  });
}

process.stdout.write(`warming up with ${args.warm} appends`);
for (let i = 0; i < Number(args.warm); i++) await createOrder(false);
console.log(` done (load average ${loadavg()[0]!.toFixed(1)})`);
for (const guarded of [false, true]) {
  for (const size of sizes) {
    const perCommand: number[] = [];
    for (let batch = 0; batch < Math.max(5, Math.ceil(400 / size)); batch++) {
      const started = performance.now();
      // Sent in one turn of the event loop: group commit takes them as one batch.
      await Promise.all(Array.from({ length: size }, () => createOrder(guarded)));
      perCommand.push((performance.now() - started) / size);
    }
    perCommand.sort((a, b) => a - b);
    const median = perCommand[perCommand.length >> 1]!;
    console.log(
      `${guarded ? "guarded  " : "unguarded"} batch ${String(size).padStart(3)}: ${median.toFixed(3)} ms per command`,
    );
  }
}
await db.close();
