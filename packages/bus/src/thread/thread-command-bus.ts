import { randomUUID } from "node:crypto";
import type { MessagePort } from "node:worker_threads";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { findMethod } from "@sluice/contracts";
import { ErrorCode, RpcError } from "@sluice/rpc";
import type { CommandBus, CommandEnvelope } from "../command-bus";
import { decodeReply, encodeCommand, replyOutcome } from "../records/command-record";

export interface ThreadCommandBusOptions {
  /** How long a call waits for its reply before it fails as UNAVAILABLE (retriable); 10 s unless told. */
  readonly replyTimeoutMs?: number;
}

interface PendingCall {
  readonly output: DescMessage;
  resolve(response: Message): void;
  reject(error: unknown): void;
}

/** The reply address a thread's command records carry: the port is the only way back. */
const replyTopic = "thread";
const unavailable = (message: string) => new RpcError(ErrorCode.UNAVAILABLE, message, { retriable: true });

/**
 * Sends calls to the router another thread of this process serves with `serveThreadCommands`, as
 * the same command records the Kafka bus carries, over a message port. The embedded shape runs its
 * write side (PGlite, the domain, projections, outbox) in a thread of its own this way, so the
 * gateways keep the main thread.
 */
export class ThreadCommandBus implements CommandBus {
  readonly #port: MessagePort;
  readonly #replyTimeoutMs: number;
  readonly #pending = new Map<string, PendingCall>();
  #closed = false;

  constructor(port: MessagePort, options: ThreadCommandBusOptions = {}) {
    this.#port = port;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 10_000;
    port.on("message", (bytes: Uint8Array) => this.#settle(bytes));
    port.on("close", () => this.#failAll("the command thread is gone"));
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
    const replied = new Promise<Message>((resolve, reject) => {
      this.#pending.set(callId, { output: method.output, resolve, reject });
    });
    const timer = setTimeout(
      () => this.#fail(callId, unavailable(`${envelope.method}: no reply within ${this.#replyTimeoutMs} ms`)),
      this.#replyTimeoutMs,
    );
    const abandon = () =>
      this.#fail(
        callId,
        signal.reason instanceof RpcError
          ? signal.reason
          : new RpcError(ErrorCode.TIMEOUT, `${envelope.method}: the caller stopped waiting`, { retriable: true }),
      );
    signal.addEventListener("abort", abandon, { once: true });
    try {
      if (signal.aborted) abandon();
      else this.#port.postMessage(record);
      return await replied;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", abandon);
      this.#pending.delete(callId);
    }
  }

  #fail(callId: string, error: RpcError): void {
    this.#pending.get(callId)?.reject(error);
    this.#pending.delete(callId);
  }

  #failAll(reason: string): void {
    for (const callId of [...this.#pending.keys()]) this.#fail(callId, unavailable(reason));
  }

  /** Settles the call a reply answers; a reply to a call no longer waiting (timed out) is dropped. */
  #settle(bytes: Uint8Array): void {
    let callId: string | undefined;
    try {
      const reply = decodeReply(bytes);
      callId = reply.callId;
      const call = this.#pending.get(callId);
      if (!call) return;
      this.#pending.delete(callId);
      try {
        call.resolve(replyOutcome(reply, call.output));
      } catch (error) {
        call.reject(error);
      }
    } catch (error) {
      console.error("command bus: skipped a reply from the command thread", error);
      if (callId) this.#fail(callId, new RpcError(ErrorCode.INTERNAL, "the reply did not decode", { retriable: true }));
    }
  }

  /** Fails what is still waiting (UNAVAILABLE, retriable) and closes the port. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll("command bus closed");
    this.#port.close();
  }
}
