// Client CPU per call of append_commands' statement shape and of leaner ones (issue 4, session 7):
// stub functions that answer at once with what a single accepted append returns, called as named
// statements on one bare pg.Client (the types @sluice/database gives int8 and xid8), so only the
// driver's work on the arguments and the result is measured, this process's CPU per call.
//
//   current:     seventeen arguments (fourteen arrays), eight columns of arrays out (as now);
//   arrays_json: the same arguments, one json column out;
//   json:        one jsonb argument, one jsonb column out;
//   cols:        one jsonb argument, five plain columns out.
//
//   npx tsx src/event-store/result-shape-cpu.ts
import { randomUUID } from "node:crypto";
import pg from "pg";
import { createFreshDatabase } from "./databases";

const database = await createFreshDatabase("drvcpu");
const setup = new pg.Client({ connectionString: database.url });
await setup.connect();
await setup.query(`
create function stub_current(
  c_organization text[], c_command text[], c_result_type text[], c_results jsonb, c_metadata jsonb,
  s_command int[], s_stream text[], s_type text[], s_expected text[], s_count int[], s_close boolean[],
  e_entry int[], e_type text[], e_data jsonb,
  k_organization text[], k_subject text[], k_wrapped text[],
  out codes text[], out details text[], out versions bigint[],
  out positions bigint[], out event_ids uuid[], out transaction_id xid8, out occurred_at timestamptz,
  out stored_keys jsonb)
language sql as $$ select array[null]::text[], array[null]::text[], array[7]::bigint[], array[123456]::bigint[],
  array[gen_random_uuid()], '1234567'::xid8, now(), null::jsonb $$;
create function stub_json(batch jsonb) returns jsonb
language sql as $$ select jsonb_build_object('versions', array[7], 'positions', array[123456], 'event_ids', array[gen_random_uuid()],
  'transaction_id', '1234567', 'occurred_at', now()) $$;
create function stub_arrays_json(
  c_organization text[], c_command text[], c_result_type text[], c_results jsonb, c_metadata jsonb,
  s_command int[], s_stream text[], s_type text[], s_expected text[], s_count int[], s_close boolean[],
  e_entry int[], e_type text[], e_data jsonb,
  k_organization text[], k_subject text[], k_wrapped text[]) returns jsonb
language sql as $$ select jsonb_build_object('versions', array[7], 'positions', array[123456], 'event_ids', array[gen_random_uuid()],
  'transaction_id', '1234567', 'occurred_at', now()) $$;
create function stub_cols(batch jsonb, out outcomes jsonb, out positions text, out event_ids text, out transaction_id text, out occurred_at text)
language sql as $$ select null::jsonb, '123456', gen_random_uuid()::text, '1234567', now()::text $$;
`);
await setup.end();
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === 20 || oid === 5069) return (v: string) => BigInt(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;
const client = new pg.Client({ connectionString: database.url, types });
await client.connect();
const stream = randomUUID();
const data = {
  orderId: "x",
  projectId: "p-1",
  consignee: "sealed-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  address: "sealed-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
  weightKg: 12.5,
};
/** append_commands' seventeen arguments for one accepted single-event command, as the store sends them. */
function appendArguments(): unknown[] {
  const commandId = randomUUID();
  return [
    ["org-bench"],
    [commandId],
    ["dispatch.v1.CommandAccepted"],
    JSON.stringify([{ versions: [{ streamId: stream, version: "3" }] }]),
    JSON.stringify([{ userId: "user-1", commandId, correlationId: randomUUID() }]),
    [1],
    [stream],
    ["dispatch.order"],
    ["2"],
    [1],
    [false],
    [1],
    ["dispatch.v1.OrderCreated"],
    JSON.stringify([data]),
    [],
    [],
    [],
  ];
}

/** The same append as one jsonb argument: the commands, their streams, the events and the keys. */
function appendDocument(): string {
  const commandId = randomUUID();
  return JSON.stringify({
    commands: [
      {
        organization: "org-bench",
        command: commandId,
        resultType: "dispatch.v1.CommandAccepted",
        result: { versions: [{ streamId: stream, version: "3" }] },
        metadata: { userId: "user-1", commandId, correlationId: randomUUID() },
      },
    ],
    streams: [{ command: 1, stream, type: "dispatch.order", expected: "2", count: 1, close: false }],
    events: [{ entry: 1, type: "dispatch.v1.OrderCreated", data }],
    keys: [],
  });
}

const shapes: Record<string, () => Promise<unknown>> = {
  current: async () => {
    const { rows } = await client.query({
      name: "cur",
      text: "select * from stub_current($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16, $17)",
      values: appendArguments(),
    });
    return rows[0];
  },
  arrays_json: async () => {
    const { rows } = await client.query({
      name: "aj",
      text: "select stub_arrays_json($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16, $17) as r",
      values: appendArguments(),
    });
    return rows[0];
  },
  json: async () => {
    const { rows } = await client.query({
      name: "json",
      text: "select stub_json($1::jsonb) as r",
      values: [appendDocument()],
    });
    return rows[0];
  },
  cols: async () => {
    const { rows } = await client.query({
      name: "cols",
      text: "select * from stub_cols($1::jsonb)",
      values: [appendDocument()],
    });
    return rows[0];
  },
};
const out: Record<string, number[]> = {};
for (let round = 0; round < 6; round++) {
  for (const [name, call] of Object.entries(shapes)) {
    for (let i = 0; i < 300; i++) await call();
    const c0 = process.cpuUsage();
    for (let i = 0; i < 3000; i++) await call();
    const c = process.cpuUsage(c0);
    (out[name] ??= []).push((c.user + c.system) / 3000);
  }
}
for (const [name, us] of Object.entries(out)) console.log(name.padEnd(8), us.map((u) => u.toFixed(0)).join(" "));
await client.end();
await database.drop();
