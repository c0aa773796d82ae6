import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { registry } from "@sluice/contracts";
import { EventRecordSchema } from "@sluice/contracts/gen/sluice/v1/bus_pb";
import type { RecordedEvent } from "@sluice/event-store";
import { decoding, MalformedRecordError } from "./malformed-record";

/** A recorded event as it goes on an events topic (sluice.v1.EventRecord). */
export function encodeEvent(event: RecordedEvent): Uint8Array {
  const schema = registry.getMessage(event.type);
  if (!schema) throw new Error(`event type ${event.type} is not in the contracts' registry`);
  return toBinary(
    EventRecordSchema,
    create(EventRecordSchema, {
      eventId: event.eventId,
      organizationId: event.organizationId,
      streamId: event.streamId,
      streamType: event.streamType,
      streamVersion: event.streamVersion,
      globalPosition: event.globalPosition,
      transactionId: event.transactionId,
      type: event.type,
      data: toBinary(schema, event.data),
      metadata: event.metadata,
      occurredAt: timestampFromDate(event.occurredAt),
    }),
  );
}

/** The recorded event an events topic's record holds; throws MalformedRecordError otherwise. */
export function decodeEvent(bytes: Uint8Array): RecordedEvent {
  const record = decoding("an EventRecord", () => fromBinary(EventRecordSchema, bytes));
  const schema = registry.getMessage(record.type);
  if (!schema) throw new MalformedRecordError(`event type ${JSON.stringify(record.type)} is unknown`);
  if (!record.metadata || !record.occurredAt || !record.streamId) {
    throw new MalformedRecordError(`event ${record.eventId} lacks its stream, metadata or time`);
  }
  const { userId, commandId, correlationId, traceparent } = record.metadata;
  return {
    eventId: record.eventId,
    organizationId: record.organizationId,
    streamId: record.streamId,
    streamType: record.streamType,
    streamVersion: record.streamVersion,
    globalPosition: record.globalPosition,
    transactionId: record.transactionId,
    type: record.type,
    data: decoding(`the data of event ${record.eventId}`, () => fromBinary(schema, record.data)),
    metadata: { userId, commandId, correlationId, traceparent },
    occurredAt: timestampDate(record.occurredAt),
  };
}
