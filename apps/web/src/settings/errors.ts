import type { ApiError } from "./api";

// A refusal's headline, by the contract's codes; the server's own message goes under it.
const titles: Record<string, string> = {
  UNAUTHENTICATED: "Please sign in again",
  PERMISSION_DENIED: "You may not do this",
  INVALID_ARGUMENT: "Please check your input",
  NOT_FOUND: "Not found",
  ALREADY_EXISTS: "Already there",
  FAILED_PRECONDITION: "Not possible right now",
  RESOURCE_EXHAUSTED: "Too many attempts",
  UNAVAILABLE: "The server could not be reached",
};

/** What an ErrorBanner or ConfirmDialog shows for a refusal. */
export function describeError(error: ApiError): { title: string; message: string; code: string } {
  const wait = error.retryAfterSeconds ? ` Try again in ${error.retryAfterSeconds} s.` : "";
  return { title: titles[error.code] ?? "Something went wrong", message: error.message + wait, code: error.code };
}
