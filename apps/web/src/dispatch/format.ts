import type { TimeWindowJson } from "@sluice/contracts/gen/dispatch/v1/types_pb";

/** A JSON-mapped double ("NaN" and friends are strings in the mapping) as a plain number. */
export function num(value: number | string | undefined): number {
  if (value === undefined) return 0;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

const kgFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
export function formatKg(value: number | string | undefined): string {
  return `${kgFormat.format(num(value))} kg`;
}

const dayTime = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** "Mon 2 Mar, 08:00 – 10:00" (the end's day only when it differs). */
export function formatWindow(window: TimeWindowJson | undefined): string {
  if (!window?.start || !window.end) return "Any time";
  const start = new Date(window.start);
  const end = new Date(window.end);
  const sameDay = start.toDateString() === end.toDateString();
  return `${dayTime.format(start)} – ${sameDay ? timeOnly.format(end) : dayTime.format(end)}`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
/** "2 minutes ago", relative to `now`. */
export function formatAgo(instant: string | undefined, now: number): string {
  if (!instant) return "";
  const seconds = Math.round((new Date(instant).getTime() - now) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) return relative.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 24) return relative.format(hours, "hour");
  return relative.format(Math.round(hours / 24), "day");
}

/** What shows where an order's consignee and address were, once its personal data is erased. */
export const erasedLabel = "Personal data erased";
