import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { registry } from "@sluice/contracts";
import { EventMetadataSchema, type EventMetadata } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import type { UnpositionedPublication } from "@sluice/broker";
import type { RecordedEvent } from "@sluice/event-store";

/** The envelope metadata of a recorded event: who caused it, where it sits, when. */
export function eventMetadata(event: RecordedEvent): EventMetadata {
  return create(EventMetadataSchema, {
    eventId: event.eventId,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    globalPosition: event.globalPosition,
    userId: event.metadata.userId,
    commandId: event.metadata.commandId,
    correlationId: event.metadata.correlationId,
    occurredAt: BigInt(event.occurredAt.getTime()),
    traceparent: event.metadata.traceparent ?? "",
  });
}

/**
 * An event as the publication every channel it belongs to carries. Built once per event; the
 * broker gives each channel's copy its own position.
 */
export function eventPublication(event: RecordedEvent): Omit<UnpositionedPublication, "channel"> {
  const schema = registry.getMessage(event.data.$typeName);
  if (!schema) throw new Error(`${event.data.$typeName} is not in the contracts registry`);
  return {
    $typeName: "sluice.v1.Publication",
    event: anyPack(schema, event.data),
    metadata: eventMetadata(event),
  };
}
