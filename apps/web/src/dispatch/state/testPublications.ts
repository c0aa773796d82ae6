import { sluicePublication, sluiceSubscribed, type PublicationPayload } from "@sluice/client-sdk/redux";
import type { JsonValue } from "@bufbuild/protobuf";

// Tests only: publications as the middleware dispatches them, with the metadata the folds read.
let offset = 0;

export function publication(channel: string, type: string, event: JsonValue, stream: { id: string; version: number }) {
  offset += 1;
  const payload: PublicationPayload = {
    channel,
    offset: String(offset),
    epoch: "test",
    type: `dispatch.v1.${type}`,
    event,
    metadata: { streamId: stream.id, streamVersion: String(stream.version), occurredAt: "1767225600000" },
  };
  return sluicePublication(payload);
}

export const notRecovered = (channel: string) => sluiceSubscribed({ channel, recovered: false, presence: [] });
