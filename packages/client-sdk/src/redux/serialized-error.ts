import { toJson, type JsonValue } from "@bufbuild/protobuf";
import { AnySchema, anyPack } from "@bufbuild/protobuf/wkt";
import { registry } from "@sluice/contracts";
import { ErrorCode, RpcError } from "@sluice/rpc/error";

/** An RpcError as plain data, fit for a Redux store: details in the Protobuf JSON mapping of Any. */
export interface SerializedRpcError {
  readonly code: ErrorCode;
  /** "NOT_FOUND", "CONFLICT", …: the contract's name of the code. */
  readonly codeName: string;
  readonly message: string;
  /** Each detail as JSON with its "@type", e.g. sluice.v1.FieldViolations. */
  readonly details: JsonValue[];
  readonly retriable: boolean;
}

export function serializeError(error: unknown): SerializedRpcError {
  if (error instanceof RpcError) {
    return {
      code: error.code,
      codeName: ErrorCode[error.code] ?? String(error.code),
      message: error.message,
      details: error.details.flatMap((detail) => {
        const schema = registry.getMessage(detail.$typeName);
        return schema ? [toJson(AnySchema, anyPack(schema, detail), { registry })] : [];
      }),
      retriable: error.retriable,
    };
  }
  // An aborted call, or a bug: no contract code fits, so UNSPECIFIED with what is known.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    code: ErrorCode.UNSPECIFIED,
    codeName: ErrorCode[ErrorCode.UNSPECIFIED],
    message,
    details: [],
    retriable: false,
  };
}
