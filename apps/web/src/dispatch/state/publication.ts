import type { PublicationPayload } from "@sluice/client-sdk/redux";

/**
 * How a publication relates to a view of its stream: already included (the view's version is at
 * or past it: drop), the next one (fold it), or past a gap (something was missed: refetch).
 */
export type Sequence = "included" | "next" | "gap";

export function sequence(viewVersion: string | number | undefined, publication: PublicationPayload): Sequence {
  const known = Number(viewVersion ?? 0);
  const version = Number(publication.metadata?.streamVersion ?? 0);
  if (version <= known) return "included";
  return version === known + 1 ? "next" : "gap";
}

export function streamVersionOf(publication: PublicationPayload): string {
  return publication.metadata?.streamVersion ?? "0";
}

/** Unix milliseconds (the metadata's JSON int64 string) as RFC 3339, as views carry instants. */
export function occurredAt(publication: PublicationPayload): string | undefined {
  const millis = Number(publication.metadata?.occurredAt ?? 0);
  return millis > 0 ? new Date(millis).toISOString() : undefined;
}

export const projectChannel = (projectId: string) => `project:${projectId}`;
export const routeChannel = (routeId: string) => `route:${routeId}`;
