export * from "./codec";
export * from "./close-codes";
export * from "./limits";
