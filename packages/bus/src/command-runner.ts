import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ErrorCode, RpcError, toRpcError, type Router } from "@sluice/rpc";
import { sessionOf, type CommandOutcome, type DecodedCommand } from "./records/command-record";

/**
 * Runs a command that arrived on a bus through the router's `invoke`: policy and validation are
 * checked again, since a bus is trusted no more than any wire. Never throws: how the command
 * ended is the outcome, a response or the RpcError to answer with.
 */
export async function runCommand(
  router: Router,
  command: DecodedCommand,
  signal: AbortSignal,
): Promise<CommandOutcome> {
  const route = router.route(command.method);
  if (!route) return { error: new RpcError(ErrorCode.UNKNOWN_METHOD, `${command.method} is not served here`) };
  let request;
  try {
    request = fromBinary(route.method.input, command.request);
  } catch {
    return {
      error: new RpcError(ErrorCode.MALFORMED, `the request does not decode as ${route.method.input.typeName}`),
    };
  }
  try {
    const response = await router.invoke(route, request, {
      session: sessionOf(command),
      commandId: command.commandId,
      correlationId: command.correlationId,
      traceparent: command.traceparent,
      signal,
    });
    return { response: toBinary(route.method.output, response) };
  } catch (error) {
    if (!(error instanceof RpcError)) console.error(`command service: ${command.method} failed`, error);
    return { error: toRpcError(error) };
  }
}
