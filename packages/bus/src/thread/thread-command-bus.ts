import { randomUUID } from "node:crypto";
import type { MessagePort } from "node:worker_threads";
import type { Message } from "@bufbuild/protobuf";
import { findMethod } from "@sluice/contracts";
import { ErrorCode, RpcError } from "@sluice/rpc";
import type { CommandBus, CommandEnvelope } from "../command-bus";
import { encodeCommand } from "../records/command-record";
import { PendingCalls, unavailable } from "../records/pending-calls";

export interface ThreadCommandBusOptions {
  /** How long a call waits for its reply before it fails as UNAVAILABLE (retriable); 10 s unless told. */
  readonly replyTimeoutMs?: number;
}

/** The reply address a thread's command records carry: the port is the only way back. */
const replyTopic = "thread";

/**
 * Sends calls to the router another thread of this process serves with `serveThreadCommands`, as
 * the same command records the Kafka bus carries, over a message port. The embedded shape runs its
 * write side (PGlite, the domain, projections, outbox) in a thread of its own this way, so the
 * gateways keep the main thread.
 */
export class ThreadCommandBus implements CommandBus {
  readonly #port: MessagePort;
  readonly #replyTimeoutMs: number;
  readonly #calls = new PendingCalls("the command thread");
  #closed = false;

  constructor(port: MessagePort, options: ThreadCommandBusOptions = {}) {
    this.#port = port;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 10_000;
    port.on("message", (bytes: Uint8Array) => this.#calls.settle(bytes));
    port.on("close", () => this.#calls.failAll(unavailable("the command thread is gone")));
  }

  async send(envelope: CommandEnvelope, signal: AbortSignal): Promise<Message> {
    if (this.#closed) throw unavailable("command bus is closed");
    const method = findMethod(envelope.method);
    if (!method) throw new RpcError(ErrorCode.UNKNOWN_METHOD, `${envelope.method} is not a method of this server`);
    const callId = randomUUID();
    const record = encodeCommand(envelope, method.input, {
      replyTopic,
      callId,
      deadline: Date.now() + this.#replyTimeoutMs,
    });
    return this.#calls.wait(
      { callId, method: envelope.method, output: method.output },
      this.#replyTimeoutMs,
      signal,
      async () => this.#port.postMessage(record),
    );
  }

  /** Fails what is still waiting (UNAVAILABLE, retriable) and closes the port. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#calls.failAll(unavailable("command bus closed"));
    this.#port.close();
  }
}
