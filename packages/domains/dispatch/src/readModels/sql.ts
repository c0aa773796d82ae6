import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import { TimeWindowSchema, type TimeWindow } from "@sluice/contracts/gen/dispatch/v1/types_pb";

/** A time window as two nullable timestamptz parameters (ISO strings). */
export function timeWindowColumns(window: TimeWindow | undefined): [string | null, string | null] {
  if (window?.start === undefined || window.end === undefined) return [null, null];
  return [timestampDate(window.start).toISOString(), timestampDate(window.end).toISOString()];
}

/** Drivers hand timestamptz back as Date (or, for some settings, as text). */
export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

export function timeWindowOf(start: unknown, end: unknown): TimeWindow | undefined {
  if (start === null || start === undefined || end === null || end === undefined) return undefined;
  return create(TimeWindowSchema, { start: timestampFromDate(toDate(start)), end: timestampFromDate(toDate(end)) });
}

// Rows travel to the server as one JSON text per statement, read with json_to_recordset: json,
// not jsonb, since each is read once (jsonb would build its binary form first, ~15% of an insert).

/** One key for a row of an organization's id, for maps of rows a fold works on. */
export const rowKey = (organizationId: string, id: string): string => `${organizationId}\u0000${id}`;

/** A route of an organization, as a row of a `json_to_recordset` parameter. */
export interface OrgRouteKey {
  readonly organization_id: string;
  readonly route_id: string;
}
