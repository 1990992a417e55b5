import type { IncomingMessage, ServerResponse } from "node:http";

/** How long browsers may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = 86400;

/**
 * CORS for public endpoints (host-meta, BOSH): any origin may read them. XEP-0156 §3 asks for this on
 * host-meta, and web clients served from another origin need it for BOSH. These endpoints carry no cookies,
 * so `*` grants nothing a page could not already do by other means.
 */
export function allowAnyOrigin(res: ServerResponse): void {
  res.setHeader("Access-Control-Allow-Origin", "*");
}

/**
 * Answers a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) for a public route. Returns false
 * if the request is not a preflight.
 */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, methods: string[]): boolean {
  if (req.headers["access-control-request-method"] === undefined) return false;
  res.writeHead(204, {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": [...methods, "OPTIONS"].join(", "),
    // BOSH posts text/xml, which is not a CORS-safelisted content type.
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": String(PREFLIGHT_MAX_AGE),
  });
  res.end();
  return true;
}
