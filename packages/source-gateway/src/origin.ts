/**
 * Which browser pages may open a socket. A browser always sends `Origin` on a WebSocket upgrade
 * and sends the site's cookies whatever page asks, so without this check any site the user visits
 * could open a socket in the user's name (cross-site WebSocket hijacking).
 *
 * The server's own origin is the one whose host is the request's `Host`: a page cannot choose
 * the `Host` its browser sends, and comparing hosts, not schemes, keeps working behind a proxy
 * that ends TLS. Any other origin must be in the configured list.
 */
export function isAllowedOrigin(origin: string, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  const parsed = parseOrigin(origin);
  if (parsed === undefined) return false;
  if (host !== undefined && parsed.host === host.toLowerCase()) return true;
  return allowed.has(parsed.origin);
}

/**
 * An origin as browsers send it (`https://app.example.com[:port]`), normalized, or undefined for
 * anything else: "null" (sandboxed frames, file pages), paths, credentials, other schemes.
 */
export function parseOrigin(origin: string): { readonly origin: string; readonly host: string } | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
  if (!bare || origin.endsWith("/")) return undefined;
  return { origin: url.origin, host: url.host };
}
