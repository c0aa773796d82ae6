/**
 * Which browser pages may act in the user's name: open a socket (a browser sends `Origin` on every
 * WebSocket upgrade, and the site's cookies whatever page asks: cross-site WebSocket hijacking),
 * or change something over REST. One rule for the source gateway and the identity plugin; its own
 * subpath (`@sluice/identity/origin`), so the gateway loads this and nothing else of identity.
 *
 * The server's own origin is the one whose host is the request's `Host`: a page cannot choose
 * the `Host` its browser sends, and comparing hosts, not schemes, keeps working behind a proxy
 * that ends TLS. Any other origin must be in the configured list.
 */
export function isAllowedOrigin(origin: string, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  const parsed = parseOrigin(origin);
  if (parsed === undefined) return false;
  if (host !== undefined && parsed.host === hostAsIn(parsed.origin, host)) return true;
  return allowed.has(parsed.origin);
}

/** A `Host` header as the origin's scheme writes it: lower case, without that scheme's default port. */
function hostAsIn(origin: string, host: string): string | undefined {
  const withScheme = `${new URL(origin).protocol}//${host}`;
  return URL.canParse(withScheme) ? new URL(withScheme).host : undefined;
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
