/**
 * The web page's paths. They authenticate with the page's session cookie (src/web/session.ts),
 * not with a bearer token, so the API's token check (src/http/auth.ts) leaves them to it.
 */
export function isWebPath(path: string): boolean {
  return path === "/" || path.startsWith("/assets/") || path.startsWith("/ui/");
}
