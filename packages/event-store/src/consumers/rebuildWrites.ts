// Statements a rebuild's projection issues one by one, sent many to a round trip.
import type { Queryable } from "@sluice/database";

/**
 * What a held-back statement may carry: values both drivers send as the text String() gives, so
 * that the literal means what the parameter would. (Not dates, which the drivers format their
 * own ways, nor arrays or objects: a statement with one is sent at once, as it comes.)
 */
type Plain = string | number | bigint | boolean | null | undefined;

const isPlain = (value: unknown): value is Plain =>
  value === null || value === undefined || ["string", "number", "bigint", "boolean"].includes(typeof value);

const dollarQuoteFrom = 4096;

/** A quoted literal of unknown type, resolved by the server from its context as a bound parameter is. */
export function sqlLiteral(value: Plain): string {
  if (value === null || value === undefined) return "NULL";
  const text = String(value);
  if (text.includes("\u0000")) throw new RangeError("a string with a NUL character cannot be sent to PostgreSQL");
  // A long text (a page's rows as one JSON parameter, megabytes) dollar-quoted: only scanned for
  // the tag, not copied with its quotes doubled; the server reads its content as it is.
  if (text.length >= dollarQuoteFrom) {
    let tag = "$sl$";
    for (let n = 0; text.includes(tag) || text.endsWith(tag.slice(0, -1)); n++) tag = `$sl${n}$`;
    return tag + text + tag;
  }
  const quoted = `'${text.replaceAll("'", "''")}'`;
  // E'' only when needed: with standard_conforming_strings on (the default) plain '' keeps backslashes as they are.
  return text.includes("\\") ? `E${quoted.replaceAll("\\", "\\\\")}` : quoted;
}

/**
 * `sql` with each `$n` outside quotes, identifiers, dollar-quoted strings and comments replaced
 * by the literal of `params[n - 1]`.
 */
export function inlineParameters(sql: string, params: readonly Plain[]): string {
  let out = "";
  let i = 0;
  const copyUntil = (end: number) => {
    out += sql.slice(i, end);
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      let end = i + 1;
      for (;;) {
        end = sql.indexOf(c, end);
        if (end === -1) throw new SyntaxError("unterminated quote in SQL");
        if (sql[end + 1] === c) end += 2;
        else break;
      }
      copyUntil(end + 1);
    } else if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      copyUntil(end === -1 ? sql.length : end);
    } else if (c === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2);
      if (end === -1) throw new SyntaxError("unterminated comment in SQL");
      copyUntil(end + 2);
    } else if (c === "$") {
      const param = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      const tag = param ? undefined : /^\$[A-Za-z_]\w*\$|^\$\$/.exec(sql.slice(i, i + 64));
      if (param) {
        const index = Number(param[1]) - 1;
        if (index < 0 || index >= params.length) throw new RangeError(`SQL refers to ${param[0]}, not given`);
        out += sqlLiteral(params[index]);
        i += param[0].length;
      } else if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        if (end === -1) throw new SyntaxError("unterminated dollar quote in SQL");
        copyUntil(end + tag[0].length);
      } else {
        copyUntil(i + 1);
      }
    } else {
      copyUntil(i + 1);
    }
  }
  return out;
}

/** A write whose answer is no rows whatever happens: it can wait for the next round trip. */
const deferrable = (sql: string) => /^\s*(insert|update|delete)\b/i.test(sql) && !/\breturning\b/i.test(sql);
/**
 * A statement sent as it comes that may take a transaction id: a write, or a read that locks rows
 * (any WITH counts, though it may only read: the bound then errs towards smaller pages).
 */
const mayWrite = (sql: string) =>
  /^\s*(with|insert|update|delete|merge)\b/i.test(sql) || /\bfor\s+(no\s+key\s+)?(update|share)\b/i.test(sql);

const writeBehindMark = Symbol("writeBehind");

export interface WriteBehind extends Queryable {
  /** Sends what is waiting, in every lane; call before the transaction commits. */
  flush(): Promise<void>;
  /**
   * When this transaction first sent something that may write (and so took a transaction id,
   * which holds every reader of the log back until commit): undefined while it has only read.
   */
  readonly writingSince: number | undefined;
  readonly [writeBehindMark]: (tx: WriteBehind) => Queryable;
}

/**
 * For one member of a combined projection: over a write-behind transaction, a lane of its own,
 * whose writes wait (in the lane) until the lane itself reads or the transaction is flushed, so
 * that one member's writes do not go out, taking the transaction id, before the next member has
 * read. Only for projections that touch tables of their own (as members do): a lane's reads do
 * not see what other lanes hold back. Anything else is returned as it is.
 */
export function writeLane(tx: Queryable): Queryable {
  const lane = (tx as Partial<WriteBehind>)[writeBehindMark];
  return lane ? lane(tx as WriteBehind) : tx;
}

/**
 * A transaction that holds back writes which return nothing (insert, update, delete without
 * RETURNING, all parameters plain values) and sends them together, as one multi-statement
 * script, before the next statement that returns something and at `flush`. In order, in the
 * same transaction: what a projection reads still sees everything it wrote before (`writeLane`
 * gives members of a combined projection lanes of their own). A failing held-back write fails
 * the transaction at the next send rather than at its own call, so a handler must not catch a
 * write's failure and carry on (a failed statement aborts a PostgreSQL transaction anyway). For
 * rebuilds, where a round trip per statement, and a transaction id held while reading, cost most.
 */
// Held writes go out early (taking the transaction id early) only past `maxBytes`: a set-based
// read model's page is a few statements of megabytes each (its rows as one JSON), so the limit is
// a guard for memory, not a batch size.
export function writeBehind(tx: Queryable, maxBytes = 64 << 20): WriteBehind {
  /** Held statements per lane; lane 0 is the transaction's own. */
  const lanes: string[][] = [[]];
  let size = 0;
  let writingSince: number | undefined;
  const wrote = () => (writingSince ??= performance.now());
  const send = async (statements: string[]) => {
    if (statements.length === 0) return;
    wrote();
    await tx.exec(statements.join(";\n"));
  };
  /** Every lane's held statements, in lane order (each lane's own order kept). */
  const flush = async () => {
    const all = lanes.flatMap((held) => held.splice(0));
    size = 0;
    await send(all);
  };
  const view = (held: string[], flushBefore: () => Promise<void>): Queryable => ({
    async query<R>(sql: string, params: readonly unknown[] = []) {
      if (deferrable(sql) && params.every(isPlain)) {
        const statement = inlineParameters(sql, params);
        held.push(statement);
        size += statement.length;
        if (size >= maxBytes) await flush();
        return { rows: [] as R[] };
      }
      await flushBefore();
      if (mayWrite(sql)) wrote();
      return tx.query<R>(sql, params);
    },
    async exec(sql: string) {
      await flushBefore();
      wrote();
      await tx.exec(sql);
    },
  });
  const own = view(lanes[0]!, flush);
  return {
    ...own,
    flush,
    get writingSince() {
      return writingSince;
    },
    [writeBehindMark]: () => {
      const held: string[] = [];
      lanes.push(held);
      return view(held, () => send(held.splice(0)));
    },
  };
}
