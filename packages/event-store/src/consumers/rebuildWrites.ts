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

/** A quoted literal of unknown type, resolved by the server from its context as a bound parameter is. */
export function sqlLiteral(value: Plain): string {
  if (value === null || value === undefined) return "NULL";
  const text = String(value);
  if (text.includes("\u0000")) throw new RangeError("a string with a NUL character cannot be sent to PostgreSQL");
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

export interface WriteBehind extends Queryable {
  /** Sends what is waiting; call before the transaction commits. */
  flush(): Promise<void>;
}

/**
 * A transaction that holds back writes which return nothing (insert, update, delete without
 * RETURNING, all parameters plain values) and sends them together, as one multi-statement
 * script, before the next statement that returns something and at `flush`. In order, in the
 * same transaction: what a projection reads still sees everything it wrote before. A failing
 * held-back write fails the transaction at the next send rather than at its own call, so a
 * handler must not catch a write's failure and carry on (a failed statement aborts a
 * PostgreSQL transaction anyway). For rebuilds, where a round trip per statement is most of
 * the cost.
 */
export function writeBehind(tx: Queryable, maxBytes = 1 << 20): WriteBehind {
  let held: string[] = [];
  let size = 0;
  const flush = async () => {
    if (held.length === 0) return;
    const script = held.join(";\n");
    held = [];
    size = 0;
    await tx.exec(script);
  };
  return {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      if (deferrable(sql) && params.every(isPlain)) {
        const statement = inlineParameters(sql, params);
        held.push(statement);
        size += statement.length;
        if (size >= maxBytes) await flush();
        return { rows: [] as R[] };
      }
      await flush();
      return tx.query<R>(sql, params);
    },
    async exec(sql: string) {
      await flush();
      await tx.exec(sql);
    },
    flush,
  };
}
