import { escapeAttr } from "../xml/escape.ts";
import { BOSH_PATH } from "./bosh.ts";
import type { HttpContext, HttpRoute } from "./routes.ts";
import { WEBSOCKET_PATH } from "./websocket.ts";

/** XEP-0156 §3 link relations. */
const REL_WEBSOCKET = "urn:xmpp:alt-connections:websocket";
const REL_BOSH = "urn:xmpp:alt-connections:xbosh";

interface Link {
  rel: string;
  href: string;
}

export interface HostMetaOptions {
  /** The HTTPS port, when the TLS listener runs; null otherwise. */
  tlsPort(): number | null;
}

/**
 * The endpoints to advertise for a request. With `http.external_url` (a reverse proxy), exactly that origin.
 * Otherwise the origin the client used; a client that came over plain HTTP also learns the HTTPS endpoints on
 * the same host name, listed first so that clients which take the first link pick the secure one.
 */
export function connectionLinks(ctx: HttpContext, opts: HostMetaOptions): Link[] {
  const links: Link[] = [];
  const add = (base: string) => {
    const ws = base.replace(/^http/, "ws");
    links.push({ rel: REL_WEBSOCKET, href: `${ws}${WEBSOCKET_PATH}` }, { rel: REL_BOSH, href: `${base}${BOSH_PATH}` });
  };
  if (ctx.baseUrl !== `${ctx.scheme}://${ctx.authority}` || ctx.scheme === "https") {
    add(ctx.baseUrl);
    return links;
  }
  const tlsPort = opts.tlsPort();
  if (tlsPort !== null) add(`https://${hostname(ctx.authority)}:${tlsPort}`);
  add(ctx.baseUrl);
  return links;
}

/** `example.org:5280` → `example.org`, `[::1]:5280` → `[::1]`. */
function hostname(authority: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)/.exec(authority);
  return m?.[1] ?? authority;
}

/** `/.well-known/host-meta` (XRD) and `/.well-known/host-meta.json` (JRD), XEP-0156 §3. Public, CORS `*`. */
export function hostMetaRoutes(opts: HostMetaOptions): HttpRoute[] {
  const xrd = (ctx: HttpContext) => {
    const links = connectionLinks(ctx, opts)
      .map((l) => `  <Link rel="${escapeAttr(l.rel)}" href="${escapeAttr(l.href)}"/>\n`)
      .join("");
    const body = `<?xml version="1.0" encoding="utf-8"?>\n<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n${links}</XRD>\n`;
    send(ctx, "application/xrd+xml; charset=utf-8", body);
  };
  const jrd = (ctx: HttpContext) => {
    send(ctx, "application/json", `${JSON.stringify({ links: connectionLinks(ctx, opts) }, null, 2)}\n`);
  };
  return [
    { path: "/.well-known/host-meta", methods: ["GET"], cors: true, handler: xrd },
    { path: "/.well-known/host-meta.json", methods: ["GET"], cors: true, handler: jrd },
  ];
}

function send(ctx: HttpContext, type: string, body: string): void {
  ctx.res.writeHead(200, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    // The answer depends on the Host header; it rarely changes, so a short cache is fine.
    "Cache-Control": "public, max-age=300",
    Vary: "Host, X-Forwarded-Host, X-Forwarded-Proto",
  });
  ctx.res.end(body);
}
