import type { DescMessage, Message } from "@bufbuild/protobuf";
import { ErrorCode, RpcError } from "@sluice/rpc";
import { decodeReply, replyOutcome } from "./command-record";

interface PendingCall {
  readonly output: DescMessage;
  resolve(response: Message): void;
  reject(error: unknown): void;
}

export const unavailable = (message: string) => new RpcError(ErrorCode.UNAVAILABLE, message, { retriable: true });

/**
 * The calls a command bus has sent and waits to hear back about, by call id: what the Kafka and
 * thread buses share. A call ends once: with its reply, its deadline (UNAVAILABLE, retriable),
 * its caller giving up (TIMEOUT, retriable), or the bus closing.
 */
export class PendingCalls {
  readonly #pending = new Map<string, PendingCall>();
  /** Names where replies come from, for the log. */
  readonly #from: string;

  constructor(from: string) {
    this.#from = from;
  }

  /**
   * Registers the call, runs `send`, and resolves with the reply's response or rejects with its
   * RpcError; fails it after `timeoutMs` or when `signal` aborts, whichever comes first.
   */
  async wait(
    call: { readonly callId: string; readonly method: string; readonly output: DescMessage },
    timeoutMs: number,
    signal: AbortSignal,
    send: () => Promise<void>,
  ): Promise<Message> {
    const { callId, method } = call;
    const replied = new Promise<Message>((resolve, reject) => {
      this.#pending.set(callId, { output: call.output, resolve, reject });
    });
    // Settled while the send is still in flight (a timeout, an abort): awaited below, not unhandled.
    replied.catch(() => undefined);
    const timer = setTimeout(
      () => this.fail(callId, unavailable(`${method}: no reply within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const abandon = () =>
      this.fail(
        callId,
        signal.reason instanceof RpcError
          ? signal.reason
          : new RpcError(ErrorCode.TIMEOUT, `${method}: the caller stopped waiting`, { retriable: true }),
      );
    signal.addEventListener("abort", abandon, { once: true });
    try {
      if (signal.aborted) abandon();
      // The deadline and the caller's signal hold while the command is still being sent too.
      else await Promise.race([send(), replied]);
      return await replied;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", abandon);
      this.#pending.delete(callId);
    }
  }

  fail(callId: string, error: RpcError): void {
    this.#pending.get(callId)?.reject(error);
    this.#pending.delete(callId);
  }

  failAll(error: RpcError): void {
    for (const callId of [...this.#pending.keys()]) this.fail(callId, error);
  }

  /** Settles the call a reply answers; a reply to a call no longer waiting (timed out, another life of the sender) is dropped. */
  settle(bytes: Uint8Array): void {
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
      console.error(`command bus: skipped a reply from ${this.#from}`, error);
      if (callId) this.fail(callId, new RpcError(ErrorCode.INTERNAL, "the reply did not decode", { retriable: true }));
    }
  }
}
