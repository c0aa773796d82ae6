import {
  fromBinary,
  fromJsonString,
  toBinary,
  toJsonString,
  type DescMessage,
  type MessageShape,
} from "@bufbuild/protobuf";
import { registry } from "@sluice/contracts";
import {
  ClientFrameSchema,
  ServerFrameSchema,
  type ClientFrame,
  type ServerFrame,
} from "@sluice/contracts/gen/sluice/v1/envelope_pb";

/** Binary Protobuf frames: the default. */
export const PROTOBUF_SUBPROTOCOL = "sluice.v1.proto";
/** The canonical Protobuf JSON mapping of the same frames, for debugging by hand. */
export const JSON_SUBPROTOCOL = "sluice.v1.json";
export const SUBPROTOCOLS = [PROTOBUF_SUBPROTOCOL, JSON_SUBPROTOCOL] as const;
export type Subprotocol = (typeof SUBPROTOCOLS)[number];

/** Encodes and decodes the frames of one subprotocol. Decoding throws on anything malformed. */
export interface FrameCodec {
  readonly subprotocol: Subprotocol;
  /** Binary frames are sent as WebSocket binary messages, JSON ones as text. */
  readonly binary: boolean;
  encodeServer(frame: ServerFrame): Uint8Array | string;
  decodeServer(data: Uint8Array | string): ServerFrame;
  encodeClient(frame: ClientFrame): Uint8Array | string;
  decodeClient(data: Uint8Array | string): ClientFrame;
}

const textDecoder = new TextDecoder("utf-8", { fatal: true });
const textEncoder = new TextEncoder();

function binaryCodec<T extends DescMessage>(schema: T) {
  return {
    encode: (frame: MessageShape<T>) => toBinary(schema, frame),
    decode: (data: Uint8Array | string) =>
      fromBinary(schema, typeof data === "string" ? textEncoder.encode(data) : data, { readUnknownFields: false }),
  };
}

function jsonCodec<T extends DescMessage>(schema: T) {
  return {
    encode: (frame: MessageShape<T>) => toJsonString(schema, frame, { registry }),
    decode: (data: Uint8Array | string) =>
      fromJsonString(schema, typeof data === "string" ? data : textDecoder.decode(data), { registry }),
  };
}

interface SchemaCodec<T extends DescMessage> {
  encode(frame: MessageShape<T>): Uint8Array | string;
  decode(data: Uint8Array | string): MessageShape<T>;
}

function codec(
  subprotocol: Subprotocol,
  binary: boolean,
  make: <T extends DescMessage>(schema: T) => SchemaCodec<T>,
): FrameCodec {
  const server = make(ServerFrameSchema);
  const client = make(ClientFrameSchema);
  return {
    subprotocol,
    binary,
    encodeServer: server.encode,
    decodeServer: server.decode,
    encodeClient: client.encode,
    decodeClient: client.decode,
  };
}

export const protobufCodec: FrameCodec = codec(PROTOBUF_SUBPROTOCOL, true, binaryCodec);
export const jsonFrameCodec: FrameCodec = codec(JSON_SUBPROTOCOL, false, jsonCodec);

export function codecFor(subprotocol: string): FrameCodec | undefined {
  if (subprotocol === PROTOBUF_SUBPROTOCOL) return protobufCodec;
  if (subprotocol === JSON_SUBPROTOCOL) return jsonFrameCodec;
  return undefined;
}
