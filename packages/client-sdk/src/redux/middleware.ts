import type { Middleware } from "@reduxjs/toolkit";
import {
  fromJson,
  toJson,
  type DescMessage,
  type DescMethodUnary,
  type JsonValue,
  type MessageJsonType,
  type MessageShape,
} from "@bufbuild/protobuf";
import { registry } from "@sluice/contracts";
import {
  EventMetadataSchema,
  PresenceMemberSchema,
  type PresenceMember,
} from "@sluice/contracts/gen/sluice/v1/envelope_pb";
import { ErrorCode, RpcError } from "@sluice/rpc/error";
import type { SluiceClient } from "../client";
import type { ConnectionStatus, Subscription } from "../types";
import {
  callFulfilled,
  callRejected,
  isCallAction,
  sluiceConnection,
  sluicePresence,
  sluicePublication,
  sluiceSubscribe,
  sluiceSubscribed,
  sluiceSubscribeFailed,
  sluiceUnsubscribe,
  type ConnectionPayload,
  type SluiceCallAction,
} from "./actions";
import { lookupMethod } from "./call-actions";
import { serializeError } from "./serialized-error";

/** What the middleware adds to `dispatch`: a call action returns the Promise of its JSON response. */
export interface SluiceDispatch {
  <Response>(action: SluiceCallAction<unknown, Response>): Promise<Response>;
}

const jsonOptions = { registry, alwaysEmitImplicit: true } as const;

/**
 * The store holds the JSON mapping with every field present, so views need fewer defaults.
 * toJson types that as JsonValue; it still fits the generated JSON type, whose fields are all optional.
 */
function storeJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): MessageJsonType<Desc> {
  return toJson(schema, message, jsonOptions) as MessageJsonType<Desc>;
}

function memberJson(member: PresenceMember) {
  return storeJson(PresenceMemberSchema, member);
}

function connectionPayload(status: ConnectionStatus): ConnectionPayload {
  return { state: status.state, error: status.error ?? null, retryInMs: status.retryInMs ?? null, at: Date.now() };
}

/**
 * Connects a store to a client: call actions become calls, subscribe actions subscriptions, and
 * everything the socket brings (replies, publications, presence, connection state) becomes actions.
 */
export function createSluiceMiddleware(client: SluiceClient): Middleware<SluiceDispatch> {
  return (api) => {
    // Several containers may subscribe to one channel; each unsubscribe action ends one of them.
    const subscriptions = new Map<string, Subscription[]>();
    client.onStateChange((status) => api.dispatch(sluiceConnection(connectionPayload(status))));
    // Redux forbids dispatching while the middleware is being built; report the state just after.
    queueMicrotask(() => api.dispatch(sluiceConnection(connectionPayload(client.status))));

    async function perform(action: SluiceCallAction): Promise<JsonValue> {
      const { meta, payload } = action;
      try {
        const method = lookupMethod(meta.method);
        if (!method || method.methodKind !== "unary")
          throw new RpcError(ErrorCode.UNKNOWN_METHOD, `unknown method ${meta.method}`);
        let request;
        try {
          request = fromJson(method.input, payload.request, jsonOptions);
        } catch (error) {
          throw new RpcError(ErrorCode.INVALID_ARGUMENT, error instanceof Error ? error.message : String(error));
        }
        const response = await client.call(method as DescMethodUnary, request, {
          ...(payload.timeoutMs !== undefined && { timeoutMs: payload.timeoutMs }),
          ...(payload.idempotencyKey !== undefined && { idempotencyKey: payload.idempotencyKey }),
        });
        const json = toJson(method.output, response, jsonOptions);
        api.dispatch(callFulfilled(json, meta));
        return json;
      } catch (error) {
        api.dispatch(callRejected(serializeError(error), meta));
        throw error;
      }
    }

    function subscribe(channel: string, presence: boolean): void {
      const subscription = client.subscribe(channel, {
        presence,
        onPublication: (publication) => {
          const schema = registry.getMessage(publication.event.$typeName);
          if (!schema) return;
          api.dispatch(
            sluicePublication({
              channel: publication.channel,
              offset: publication.offset.toString(),
              epoch: publication.epoch,
              type: publication.event.$typeName,
              event: toJson(schema, publication.event, jsonOptions),
              metadata: publication.metadata ? storeJson(EventMetadataSchema, publication.metadata) : null,
            }),
          );
        },
        onPresence: (change) =>
          api.dispatch(
            sluicePresence({ channel: change.channel, member: memberJson(change.member), joined: change.joined }),
          ),
        onSubscribed: (info) =>
          api.dispatch(
            sluiceSubscribed({
              channel: info.channel,
              recovered: info.recovered,
              presence: info.presence.map(memberJson),
            }),
          ),
        onError: (error) => {
          subscriptions.set(
            channel,
            (subscriptions.get(channel) ?? []).filter((held) => held !== subscription),
          );
          api.dispatch(sluiceSubscribeFailed({ channel, error: serializeError(error) }));
        },
      });
      subscriptions.set(channel, [...(subscriptions.get(channel) ?? []), subscription]);
    }

    return (next) => (action) => {
      if (isCallAction(action)) {
        next(action);
        return perform(action);
      }
      const result = next(action);
      if (sluiceSubscribe.match(action)) subscribe(action.payload.channel, action.payload.presence);
      else if (sluiceUnsubscribe.match(action)) {
        const held = subscriptions.get(action.payload.channel) ?? [];
        held.pop()?.unsubscribe();
        if (held.length === 0) subscriptions.delete(action.payload.channel);
      }
      return result;
    };
  };
}
