import { create, fromBinary, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  CommandRecordSchema,
  CommandReplySchema,
  type CommandRecord,
  type CommandReply,
} from "@sluice/contracts/gen/sluice/v1/bus_pb";
import { RpcError, type Session } from "@sluice/rpc";
import type { CommandEnvelope } from "../command-bus";
import { decoding, MalformedRecordError } from "./malformed-record";

/** Where a command's reply goes and by when it is wanted. */
export interface ReplyAddress {
  readonly replyTopic: string;
  readonly callId: string;
  /** Unix milliseconds. */
  readonly deadline: number;
}

/** A command as it goes on a commands topic (sluice.v1.CommandRecord). */
export function encodeCommand(envelope: CommandEnvelope, input: DescMessage, address: ReplyAddress): Uint8Array {
  const { session } = envelope;
  return toBinary(
    CommandRecordSchema,
    create(CommandRecordSchema, {
      method: envelope.method,
      request: toBinary(input, envelope.request),
      session: { ...session, expiresAt: BigInt(session.expiresAt) },
      commandId: envelope.commandId,
      correlationId: envelope.correlationId,
      traceparent: envelope.traceparent,
      replyTopic: address.replyTopic,
      callId: address.callId,
      deadline: timestampFromMs(address.deadline),
    }),
  );
}

/** A command record with what every command must carry. */
export type DecodedCommand = CommandRecord & { session: NonNullable<CommandRecord["session"]> };

/** A commands topic's record, with what every command must carry checked; throws MalformedRecordError. */
export function decodeCommand(bytes: Uint8Array): DecodedCommand {
  const record = decoding("a CommandRecord", () => fromBinary(CommandRecordSchema, bytes));
  const { session } = record;
  if (!record.replyTopic || !record.callId || !record.deadline) {
    throw new MalformedRecordError(`command ${record.commandId} names no reply topic, call id or deadline`);
  }
  if (!session?.organizationId || !session.userId) {
    throw new MalformedRecordError(`command ${record.commandId} carries no session`);
  }
  return { ...record, session };
}

export const deadlineOf = (record: CommandRecord): number => (record.deadline ? timestampMs(record.deadline) : 0);

export function sessionOf(record: DecodedCommand): Session {
  const { sessionId, userId, displayName, organizationId, role, expiresAt } = record.session;
  return { sessionId, userId, displayName, organizationId, role, expiresAt: Number(expiresAt) };
}

/** How a command ended: its response message in binary, or the RpcError it was refused with. */
export type CommandOutcome = { readonly response: Uint8Array } | { readonly error: RpcError };

/** The reply to one command. */
export function encodeReply(callId: string, outcome: CommandOutcome): Uint8Array {
  return toBinary(
    CommandReplySchema,
    create(CommandReplySchema, {
      callId,
      outcome:
        "response" in outcome
          ? { case: "response", value: outcome.response }
          : { case: "error", value: outcome.error.toMessage() },
    }),
  );
}

export function decodeReply(bytes: Uint8Array): CommandReply {
  const reply = decoding("a CommandReply", () => fromBinary(CommandReplySchema, bytes));
  if (!reply.callId || reply.outcome.case === undefined)
    throw new MalformedRecordError("a reply without call id or outcome");
  return reply;
}

/** What a reply settles a call with: the response message, or the same RpcError the service threw. */
export function replyOutcome(reply: CommandReply, output: DescMessage): Message {
  if (reply.outcome.case === "error") throw RpcError.fromMessage(reply.outcome.value);
  const response = reply.outcome.value ?? new Uint8Array();
  return decoding(`the response to call ${reply.callId}`, () => fromBinary(output, response));
}
