import { ErrorCode, RpcError } from "@sluice/rpc";

// Identity's failures are RpcErrors, like every other refusal in Sluice; the plugin maps them to REST.

export function unauthenticated(message: string): RpcError {
  return new RpcError(ErrorCode.UNAUTHENTICATED, message);
}

export function permissionDenied(message: string): RpcError {
  return new RpcError(ErrorCode.PERMISSION_DENIED, message);
}

export function notFound(message: string): RpcError {
  return new RpcError(ErrorCode.NOT_FOUND, message);
}

export function alreadyExists(message: string): RpcError {
  return new RpcError(ErrorCode.ALREADY_EXISTS, message);
}

export function failedPrecondition(message: string): RpcError {
  return new RpcError(ErrorCode.FAILED_PRECONDITION, message);
}

export function invalidArgument(message: string): RpcError {
  return new RpcError(ErrorCode.INVALID_ARGUMENT, message);
}

/** Too many attempts: answered 429 RESOURCE_EXHAUSTED with `Retry-After`. */
export class TooManyAttempts extends RpcError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, "too many sign-in attempts: try again later", { retriable: true });
    this.name = "TooManyAttempts";
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/**
 * The attempt counters are out of reach (Redis, in the scale-out shape): a password check that
 * cannot be counted is not made. Answered 503 UNAVAILABLE with `Retry-After`; retriable, since the
 * counters' connection comes back on its own.
 */
export class ThrottleUnavailable extends RpcError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number, options: { cause?: unknown } = {}) {
    super(ErrorCode.UNAVAILABLE, "sign-in is unavailable for a moment: try again shortly", { retriable: true });
    this.name = "ThrottleUnavailable";
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** The REST status and code name for each RpcError code identity raises. */
export function restStatusOf(code: ErrorCode): { status: number; code: string } {
  switch (code) {
    case ErrorCode.INVALID_ARGUMENT:
      return { status: 400, code: "INVALID_ARGUMENT" };
    case ErrorCode.UNAUTHENTICATED:
      return { status: 401, code: "UNAUTHENTICATED" };
    case ErrorCode.PERMISSION_DENIED:
      return { status: 403, code: "PERMISSION_DENIED" };
    case ErrorCode.NOT_FOUND:
      return { status: 404, code: "NOT_FOUND" };
    case ErrorCode.ALREADY_EXISTS:
      return { status: 409, code: "ALREADY_EXISTS" };
    case ErrorCode.FAILED_PRECONDITION:
      return { status: 409, code: "FAILED_PRECONDITION" };
    case ErrorCode.RATE_LIMITED:
      return { status: 429, code: "RESOURCE_EXHAUSTED" };
    case ErrorCode.UNAVAILABLE:
      return { status: 503, code: "UNAVAILABLE" };
    default:
      return { status: 500, code: "INTERNAL" };
  }
}
