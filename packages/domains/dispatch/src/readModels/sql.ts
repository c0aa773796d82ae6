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
