import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import { TimeWindowSchema, type TimeWindow } from "@sluice/contracts/gen/dispatch/v1/types_pb";

const isoTexts = new Map<number, string>();
/**
 * `date.toISOString()` (a timestamptz column's value in a row's JSON), kept for the last thousand
 * or so times: it costs ~0.45 µs, and a batch's events come in runs of one occurred_at (an
 * append's) and name the same few time windows. Throws on an invalid date, as toISOString does.
 */
export function isoText(date: Date): string {
  const ms = date.getTime();
  let text = isoTexts.get(ms);
  if (text === undefined) {
    text = date.toISOString();
    if (isoTexts.size >= 1024) isoTexts.clear();
    isoTexts.set(ms, text);
  }
  return text;
}

/** A time window as two nullable timestamptz parameters (ISO strings). */
export function timeWindowColumns(window: TimeWindow | undefined): [string | null, string | null] {
  if (window?.start === undefined || window.end === undefined) return [null, null];
  return [isoText(timestampDate(window.start)), isoText(timestampDate(window.end))];
}

/** Drivers hand timestamptz back as Date (or, for some settings, as text). */
export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

export function timeWindowOf(start: unknown, end: unknown): TimeWindow | undefined {
  if (start === null || start === undefined || end === null || end === undefined) return undefined;
  return create(TimeWindowSchema, { start: timestampFromDate(toDate(start)), end: timestampFromDate(toDate(end)) });
}

/**
 * `jsonRows`' text for each of its uses (a few dozen in all): made once, not again for every batch
 * a live projection handles (~2–4 µs a call).
 */
const jsonRowsSql = new Map<string, string>();

/**
 * Rows sent as one parameter, read as a relation named `alias` with `columns` ("name type, …"):
 * in SQL `select * from ${jsonRows("$1", "r", "organization_id text, version bigint")}`, as the
 * parameter `JSON.stringify(rows)` with each row an array of its values in the columns' order.
 * Arrays read by index from jsonb rather than objects read by json_to_recordset: no key names to
 * write, send and parse (benchmarks.md: ~1.5 µs less server CPU and ~0.4 µs less Node CPU a row
 * inserted); jsonb, so that each value is found by its index without parsing the row again.
 */
export function jsonRows(param: string, alias: string, columns: string): string {
  const key = `${param} ${alias} ${columns}`;
  let sql = jsonRowsSql.get(key);
  if (sql === undefined) {
    const values = columns.split(",").map((column, index) => {
      const [name, ...type] = column.trim().split(/\s+/);
      return `(element->>${index})::${type.join(" ")} as ${name}`;
    });
    sql = `(select ${values.join(", ")} from jsonb_array_elements(${param}::jsonb) as element) as ${alias}`;
    jsonRowsSql.set(key, sql);
  }
  return sql;
}

/**
 * Values by organization and id, as the folds keep rows. Two levels rather than one map under a
 * joined key: a lookup hashes the organization's and the id's own strings, which keep their hash,
 * instead of a key string built and hashed anew for each lookup (0.1 against 0.23 µs a lookup,
 * and a fold makes several per event).
 */
export class ByOrganization<V> {
  readonly #organizations = new Map<string, Map<string, V>>();

  get(organizationId: string, id: string): V | undefined {
    return this.#organizations.get(organizationId)?.get(id);
  }

  has(organizationId: string, id: string): boolean {
    return this.#organizations.get(organizationId)?.has(id) ?? false;
  }

  set(organizationId: string, id: string, value: V): this {
    const ids = this.#organizations.get(organizationId);
    if (ids) ids.set(id, value);
    else this.#organizations.set(organizationId, new Map([[id, value]]));
    return this;
  }

  delete(organizationId: string, id: string): boolean {
    return this.#organizations.get(organizationId)?.delete(id) ?? false;
  }

  /** Every value, an organization's together, each in the order it was first set. */
  *values(): IterableIterator<V> {
    for (const ids of this.#organizations.values()) yield* ids.values();
  }

  /** A copy to change, leaving this one as it is. */
  copy(): ByOrganization<V> {
    const copy = new ByOrganization<V>();
    for (const [organizationId, ids] of this.#organizations) copy.#organizations.set(organizationId, new Map(ids));
    return copy;
  }
}

/** A route of an organization, as a row of a `jsonRows` parameter ("organization_id text, route_id text"). */
export type OrgRouteKey = readonly [organizationId: string, routeId: string];

/** A `ByOrganization` a function reads and does not change. */
export type ReadonlyByOrganization<V> = Pick<ByOrganization<V>, "get" | "has" | "values" | "copy">;
