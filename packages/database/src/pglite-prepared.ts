import { parse, protocol, type PGlite } from "@electric-sql/pglite";
import type { QueryResult } from "./database";

const { serialize } = protocol;

/** A statement prepared under its name: its SQL, and the types its parameters are serialized as. */
interface Prepared {
  readonly sql: string;
  readonly paramTypes: readonly number[];
}

/**
 * Named statements on PGlite (`QueryOptions.name`), which its `query` does not offer: it parses,
 * describes and plans every statement again. Here the statement is parsed and described once, then
 * each call binds and executes it by name, as pg does on a server. The messages and the parsing
 * of parameters and rows are PGlite's own (`protocol`, `parse`, its serializers and parsers), as
 * its `query` uses them; so are the locks it takes around a query.
 */
export function pglitePreparedStatements(pglite: PGlite) {
  const prepared = new Map<string, Prepared>();
  const send = (message: Uint8Array) => pglite.execProtocolStream(message, { syncToFs: false });

  async function run<R>(name: string, sql: string, params: readonly unknown[]): Promise<QueryResult<R>> {
    let statement = prepared.get(name);
    if (statement && statement.sql !== sql) throw new Error(`statement ${name} is prepared for other SQL`);
    const replies = [];
    try {
      if (!statement) {
        await send(serialize.parse({ name, text: sql }));
        const description = await send(serialize.describe({ type: "S", name }));
        statement = { sql, paramTypes: parse.parseDescribeStatementResults(description) };
        // A prepared statement outlives a transaction rolled back: it is the session's.
        prepared.set(name, statement);
      }
      const { paramTypes } = statement;
      const values = params.map((value, index) => {
        if (value === null || value === undefined) return null;
        const serializer = pglite.serializers[paramTypes[index]!];
        return serializer ? serializer(value) : String(value);
      });
      replies.push(
        ...(await send(serialize.bind({ statement: name, values }))),
        ...(await send(serialize.describe({ type: "P" }))),
        ...(await send(serialize.execute({}))),
      );
    } finally {
      // Ends the extended protocol's round, after an error too, so the session takes the next one.
      replies.push(...(await send(serialize.sync())));
    }
    return { rows: (parse.parseResults(replies, pglite.parsers)[0]?.rows ?? []) as R[] };
  }

  return {
    /** Outside a transaction: waits for any transaction to end, as PGlite's own `query` does. */
    async outside<R>(name: string, sql: string, params: readonly unknown[]): Promise<QueryResult<R>> {
      return pglite._runExclusiveTransaction(() =>
        pglite._runExclusiveQuery(async () => {
          const result = await run<R>(name, sql, params);
          // What it wrote goes to the data directory, as after PGlite's own query outside a transaction.
          await pglite.syncToFs();
          return result;
        }),
      );
    },
    /** In the transaction under way, which holds PGlite's transaction lock already. */
    inTransaction<R>(name: string, sql: string, params: readonly unknown[]): Promise<QueryResult<R>> {
      return pglite._runExclusiveQuery(() => run<R>(name, sql, params));
    },
  };
}
