import { timingSafeEqual } from "node:crypto";
import type { RpcError } from "@sluice/rpc";
import { permissionDenied } from "./errors";
import { isAllowedOrigin } from "./origin";

// The two checks every /auth request that changes something passes before its handler runs.

export const accessCookieName = "sluice_access";
export const refreshCookieName = "sluice_refresh";
export const csrfCookieName = "sluice_csrf";
export const csrfHeaderName = "x-sluice-csrf";

/** These answer before anyone is signed in; Origin (and SameSite=Strict cookies) guard them. */
export const csrfExemptRoutes: ReadonlySet<string> = new Set([
  "/auth/signin",
  "/auth/signup",
  "/auth/invitations/accept",
  "/auth/refresh",
]);

export function changesSomething(method: string): boolean {
  return method === "POST" || method === "PATCH" || method === "DELETE" || method === "PUT";
}

/**
 * A browser sends Origin on every cross-origin request and on same-origin POSTs; a request that
 * names another origin is a page elsewhere trying to act for the user. No Origin: not a browser
 * acting cross-site (or an old one), and SameSite=Strict cookies cover that.
 */
export function originRefusal(
  origin: string | undefined,
  host: string | undefined,
  allowedOrigins: ReadonlySet<string>,
): RpcError | undefined {
  if (origin === undefined) return undefined;
  if (isAllowedOrigin(origin, host, allowedOrigins)) return undefined;
  return permissionDenied("requests from another origin may not change anything here");
}

export interface CsrfInput {
  /** The request carries `Authorization`: a bearer token, which no other site can attach. */
  readonly hasAuthorization: boolean;
  readonly cookies: Readonly<Record<string, string | undefined>>;
  readonly csrfHeader: string | undefined;
}

/** Double submit: a cookie-authenticated change must echo the readable CSRF cookie in a header. */
export function csrfRefusal(input: CsrfInput): RpcError | undefined {
  if (input.hasAuthorization) return undefined;
  const cookieAuthenticated = Boolean(input.cookies[accessCookieName]) || Boolean(input.cookies[refreshCookieName]);
  if (!cookieAuthenticated) return undefined;
  const expected = input.cookies[csrfCookieName];
  if (!expected || input.csrfHeader === undefined) {
    return permissionDenied(`send the ${csrfCookieName} cookie's value in the ${csrfHeaderName} header`);
  }
  const a = Buffer.from(expected);
  const b = Buffer.from(input.csrfHeader);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return permissionDenied(`the ${csrfHeaderName} header does not match the ${csrfCookieName} cookie`);
  }
  return undefined;
}
