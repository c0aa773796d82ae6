import {
  create,
  type DescMessage,
  type DescMethod,
  type Message,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator } from "@bufbuild/protovalidate";
import { methodName, methodPolicy, roleAllows, type MethodPolicy } from "@sluice/contracts";
import { ErrorCode, RpcError } from "./error";
import type { Session } from "./session";

/** What every implementation learns about the call it serves, whatever transport carried it. */
export interface CallContext {
  readonly session: Session;
  /** The caller's idempotency key for commands, or an id minted for the call. */
  readonly commandId: string;
  readonly correlationId: string;
  readonly traceparent: string | undefined;
  /** Aborted when the caller gave up: the timeout passed or the connection closed. */
  readonly signal: AbortSignal;
}

type MethodImpl<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => Promise<MessageInitShape<O>>;

/** One implementation per method of a generated service, typed from the contract. */
export type ServiceImpl<S extends GenService<GenServiceMethods>> = {
  [K in keyof S["method"]]: S["method"][K] extends {
    input: infer I extends DescMessage;
    output: infer O extends DescMessage;
  }
    ? MethodImpl<I, O>
    : never;
};

/** A method the router can serve, with its declared policy. */
export interface Route {
  readonly name: string;
  readonly method: DescMethod;
  readonly policy: MethodPolicy;
  readonly implementation: MethodImpl<DescMessage, DescMessage>;
}

const validator = createValidator();

/**
 * Holds the implementation of every method and invokes them behind the same two gates for every
 * transport: the caller's role against the method's declared policy, then the request against
 * the validation rules of its message.
 */
export class Router {
  readonly #routes = new Map<string, Route>();

  service<S extends GenService<GenServiceMethods>>(service: S, implementation: ServiceImpl<S>): this {
    for (const method of service.methods) {
      const policy = methodPolicy(method);
      if (!policy) throw new Error(`${methodName(method)} declares no (sluice.v1.policy): nobody could call it`);
      const impl = (implementation as Record<string, MethodImpl<DescMessage, DescMessage>>)[method.localName];
      if (!impl) throw new Error(`${methodName(method)} has no implementation`);
      this.#routes.set(methodName(method), { name: methodName(method), method, policy, implementation: impl });
    }
    return this;
  }

  route(name: string): Route | undefined {
    return this.#routes.get(name);
  }

  get routes(): Iterable<Route> {
    return this.#routes.values();
  }

  /** Authorizes, validates and runs one call. Throws RpcError only. */
  async invoke(route: Route, request: Message, context: CallContext): Promise<Message> {
    this.admit(route, request, context.session);
    return this.run(route, request, context);
  }

  /**
   * The two gates alone: the caller's role against the method's policy, then the request against
   * its validation rules. An edge admits a command before putting it on a bus, so a bad one never
   * travels.
   */
  admit(route: Route, request: Message, session: Session): void {
    authorize(route, session);
    const result = validator.validate(route.method.input, request);
    if (result.kind === "invalid") {
      throw RpcError.invalidArgument(
        result.violations.map((violation) => ({
          field: pathToString(violation.field),
          rule: violation.ruleId,
          message: violation.message,
        })),
      );
    }
    if (result.kind === "error") throw new RpcError(ErrorCode.INTERNAL, "validation failed to run");
  }

  /** Runs an admitted call's implementation. */
  async run(route: Route, request: Message, context: CallContext): Promise<Message> {
    const output = await route.implementation(request, context);
    return create(route.method.output, output);
  }
}

export function authorize(route: Route, session: Session): void {
  if (!roleAllows(session.role, route.policy.minRole)) {
    throw new RpcError(ErrorCode.PERMISSION_DENIED, `${route.name} is not allowed for your role`);
  }
}
