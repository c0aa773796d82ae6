import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { CreateOrderRequestSchema } from "@sluice/contracts/gen/dispatch/v1/commands_pb";
import { ClientFrameSchema } from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { JSON_SUBPROTOCOL, PROTOBUF_SUBPROTOCOL, codecFor, jsonFrameCodec, protobufCodec } from "./codec";
import { CloseCode, closeReasonFor } from "./close-codes";

const call = create(ClientFrameSchema, {
  kind: {
    case: "call",
    value: {
      id: 7,
      method: "dispatch.v1.DispatchCommandService/CreateOrder",
      request: anyPack(
        CreateOrderRequestSchema,
        create(CreateOrderRequestSchema, { consignee: "ACME", weightKg: 12.5 }),
      ),
      idempotencyKey: "k-1",
    },
  },
});

describe("frame codecs", () => {
  for (const codec of [protobufCodec, jsonFrameCodec]) {
    test(`${codec.subprotocol} round-trips a call with an Any request`, () => {
      const encoded = codec.encodeClient(call);
      assert.equal(typeof encoded === "string", !codec.binary);
      assert.deepEqual(codec.decodeClient(encoded), call);
    });
  }

  test("the JSON mapping names the request type, for reading by hand", () => {
    const json = JSON.parse(jsonFrameCodec.encodeClient(call) as string);
    assert.equal(json.call.request["@type"], "type.googleapis.com/dispatch.v1.CreateOrderRequest");
    assert.equal(json.call.request.consignee, "ACME");
  });

  test("malformed input throws instead of decoding to something", () => {
    assert.throws(() => protobufCodec.decodeClient(new Uint8Array([0x0a, 0xff, 0xff, 0xff])));
    assert.throws(() => jsonFrameCodec.decodeClient("{not json"));
    assert.throws(() => jsonFrameCodec.decodeClient('{"call":{"id":"seven"}}'));
    assert.throws(() => jsonFrameCodec.decodeClient(new Uint8Array([0xc3, 0x28])), "invalid UTF-8");
  });

  test("subprotocols resolve to their codec, anything else to none", () => {
    assert.equal(codecFor(PROTOBUF_SUBPROTOCOL), protobufCodec);
    assert.equal(codecFor(JSON_SUBPROTOCOL), jsonFrameCodec);
    assert.equal(codecFor("sluice.v0"), undefined);
  });

  test("close codes are found by number", () => {
    assert.equal(closeReasonFor(4005), CloseCode.UNAUTHENTICATED);
    assert.equal(closeReasonFor(1000), undefined);
  });
});
