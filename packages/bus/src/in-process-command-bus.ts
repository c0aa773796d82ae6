import type { Message } from "@bufbuild/protobuf";
import { ErrorCode, RpcError, type Router } from "@sluice/rpc";
import type { CommandBus, CommandEnvelope } from "./command-bus";

/**
 * The embedded shape's bus: the domain services live in this process, so sending a command is
 * running the router's implementation for it. Only the edge in this process puts commands here,
 * and it has admitted each (role and validation) already; a bus that crosses processes has its
 * consumer `invoke` instead, checking again whatever put the command on the wire.
 */
export class InProcessCommandBus implements CommandBus {
  readonly #router: Router;
  #closed = false;

  constructor(router: Router) {
    this.#router = router;
  }

  async send(envelope: CommandEnvelope, signal: AbortSignal): Promise<Message> {
    if (this.#closed) throw new RpcError(ErrorCode.UNAVAILABLE, "command bus is closed", { retriable: true });
    const route = this.#router.route(envelope.method);
    if (!route) throw new RpcError(ErrorCode.UNKNOWN_METHOD, `${envelope.method} is not a method of this server`);
    return this.#router.run(route, envelope.request, {
      session: envelope.session,
      commandId: envelope.commandId,
      correlationId: envelope.correlationId,
      traceparent: envelope.traceparent,
      signal,
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
