import type { MessagePort } from "node:worker_threads";
import type { Router } from "@sluice/rpc";
import { runCommand } from "../command-runner";
import { deadlineOf, decodeCommand, encodeReply } from "../records/command-record";

export interface ThreadCommandServer {
  /** Takes no more calls, answers the ones in hand, then closes the port. */
  close(): Promise<void>;
}

/**
 * The other end of a `ThreadCommandBus`: runs each call that arrives on the port through the
 * router's `invoke` and posts the reply back. Calls run concurrently, as they do in process: one
 * aggregate's order comes from the event store's expected versions, not from arrival.
 */
export function serveThreadCommands(router: Router, port: MessagePort): ThreadCommandServer {
  const inFlight = new Set<Promise<void>>();

  async function answer(bytes: Uint8Array): Promise<void> {
    let command;
    try {
      command = decodeCommand(bytes);
    } catch (error) {
      console.error("command service: skipped a record from the command bus", error);
      return;
    }
    const remainingMs = deadlineOf(command) - Date.now();
    // Its sender has answered the caller already (retriable); a retry runs it then.
    if (remainingMs <= 0) return;
    const reply = encodeReply(command.callId, await runCommand(router, command, AbortSignal.timeout(remainingMs)));
    port.postMessage(reply);
  }

  const onMessage = (bytes: Uint8Array) => {
    const running = answer(bytes).finally(() => inFlight.delete(running));
    inFlight.add(running);
  };
  port.on("message", onMessage);
  return {
    async close() {
      port.off("message", onMessage);
      await Promise.allSettled(inFlight);
      port.close();
    },
  };
}
