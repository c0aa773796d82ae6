import { create, type Message } from "@bufbuild/protobuf";
import { anyPack, anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { registry } from "@sluice/contracts";
import {
  ErrorCode,
  ErrorSchema,
  FieldViolationsSchema,
  RuleViolationSchema,
  VersionConflictSchema,
  type Error as ErrorMessage,
  type FieldViolation,
} from "@sluice/contracts/gen/sluice/v1/errors_pb";

export { ErrorCode };

/**
 * A failure a caller is meant to see: a code from the contract, a message for people, and typed
 * details. Anything else thrown by an implementation reaches callers as INTERNAL, without its text.
 */
export class RpcError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly Message[];
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { details?: Message[]; retriable?: boolean } = {}) {
    super(message);
    this.name = "RpcError";
    this.code = code;
    this.details = options.details ?? [];
    this.retriable = options.retriable ?? false;
  }

  static invalidArgument(violations: Omit<FieldViolation, "$typeName">[]): RpcError {
    const summary = violations.map((v) => `${v.field}: ${v.message}`).join("; ");
    return new RpcError(ErrorCode.INVALID_ARGUMENT, summary || "invalid request", {
      details: [create(FieldViolationsSchema, { violations })],
    });
  }

  static conflict(streamId: string, expectedVersion: string, actualVersion: bigint): RpcError {
    return new RpcError(
      ErrorCode.CONFLICT,
      `${streamId} is at version ${actualVersion}, expected ${expectedVersion}: someone changed it first`,
      { details: [create(VersionConflictSchema, { streamId, expectedVersion, actualVersion })], retriable: true },
    );
  }

  static ruleBroken(rule: string, message: string): RpcError {
    return new RpcError(ErrorCode.FAILED_PRECONDITION, message, {
      details: [create(RuleViolationSchema, { rule, message })],
    });
  }

  static notFound(what: string): RpcError {
    return new RpcError(ErrorCode.NOT_FOUND, `${what} not found`);
  }

  /** The contract's Error message for this failure, details packed as Any. */
  toMessage(): ErrorMessage {
    return create(ErrorSchema, {
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      details: this.details.map((detail): Any => anyPack(registry.getMessage(detail.$typeName)!, detail)),
    });
  }

  /** Rebuilds an RpcError from an Error message received over a transport. */
  static fromMessage(error: ErrorMessage): RpcError {
    const details = error.details.flatMap((any) => anyUnpack(any, registry) ?? []);
    return new RpcError(error.code, error.message, { details, retriable: error.retriable });
  }
}

/** Whatever an implementation threw, as the error a caller may see. */
export function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  return new RpcError(ErrorCode.INTERNAL, "internal error", { retriable: true });
}
