import type { Message } from "@bufbuild/protobuf";
import type { Session } from "@sluice/rpc";

/**
 * One command on its way from an edge to the domain service of its bounded context. Only data:
 * a method name and a request message, so an adapter can put it on a wire (Kafka) unchanged.
 */
export interface CommandEnvelope {
  /** Fully qualified: "dispatch.v1.DispatchCommandService/CreateOrder". */
  readonly method: string;
  /** The method's request message. */
  readonly request: Message;
  /** Always the caller's connection session, never anything from the request. */
  readonly session: Session;
  /** The caller's idempotency key, or one minted for the call. */
  readonly commandId: string;
  readonly correlationId: string;
  readonly traceparent: string | undefined;
}

/**
 * Carries commands to the domain services and their replies back. `send` resolves with the
 * method's response message, or rejects with an RpcError. Anything else it rejects with is an
 * internal failure, which the edge logs and answers as INTERNAL.
 */
export interface CommandBus {
  send(envelope: CommandEnvelope, signal: AbortSignal): Promise<Message>;
  close(): Promise<void>;
}
