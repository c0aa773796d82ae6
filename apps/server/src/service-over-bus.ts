import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type { CommandBus } from "@sluice/bus";
import { methodName } from "@sluice/contracts";
import type { CallContext, ServiceImpl } from "@sluice/rpc";

/**
 * A service whose every method is sent on the command bus: the implementation a gateway registers
 * when the service runs in another process (a domain service) or thread (the embedded shape's
 * domain thread, which runs queries too). The router admits each call (policy, validation) as for
 * a local service; the bus's other end checks again.
 */
export function serviceOverBus<S extends GenService<GenServiceMethods>>(service: S, bus: CommandBus): ServiceImpl<S> {
  const implementation: Record<
    string,
    (request: never, context: CallContext) => Promise<MessageInitShape<DescMessage>>
  > = {};
  for (const method of service.methods) {
    const name = methodName(method);
    implementation[method.localName] = (request, context) =>
      bus.send(
        {
          method: name,
          request,
          session: context.session,
          commandId: context.commandId,
          correlationId: context.correlationId,
          traceparent: context.traceparent,
        },
        context.signal,
      );
  }
  return implementation as ServiceImpl<S>;
}
