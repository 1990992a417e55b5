import { createHash } from "node:crypto";
import type { HttpContext } from "../http/routes.ts";
import { type Html, html, raw } from "./html.ts";
import { STYLE } from "./style.ts";

const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;

/**
 * The pages need no script at all; the stylesheet is allowed by its hash, images (QR codes are inline SVG) only
 * from data: and the page itself, and forms only post back to this origin.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src ${STYLE_HASH}`,
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** A small flame, the Hearth mark. */
const FLAME = raw(
  '<svg class="flame" viewBox="0 0 32 32" aria-hidden="true"><path fill="#d9480f" d="M16 2c1.2 5.2-2.8 7.8-5.1 11.3C8.4 17 8 20.6 9.7 24c1.6 3.2 4.1 5 6.3 6-2.1-2.7-2.6-5.5-1.3-8.2.9 1.8 2.4 3 4.3 3.4-.9-3.1.2-6.2 2.3-8.6 1 4 4.6 6.1 3.3 10.9A10.6 10.6 0 0 0 26.8 19C26.8 11.5 20.6 5.6 16 2z"/><path fill="#fab005" d="M16.3 30c-1.9-1.7-2.7-3.9-2-6.3 1 1.2 2.3 1.9 3.8 2 0-2 .7-3.7 2.1-5 .6 2.6 2.4 4.4 1.4 7.2-1 1.7-3 2.4-5.3 2.1z"/></svg>',
);

/** The flame as the tab icon, inline so that browsers do not ask for /favicon.ico. */
const ICON = `data:image/svg+xml,${encodeURIComponent(FLAME.value.replace('class="flame" ', 'xmlns="http://www.w3.org/2000/svg" '))}`;

export interface PageOptions {
  title: string;
  body: Html;
  /** Narrow column (invite page) or wide (admin page). */
  narrow?: boolean;
  /** Extra markup at the right of the header (the admin page's sign-out button). */
  headerExtra?: Html;
}

/** A whole HTML document in the shared layout. */
export function page(opts: PageOptions): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${opts.title}</title>
<link rel="icon" href="${ICON}">
<style>${raw(STYLE)}</style>
</head>
<body>
<header class="top${opts.narrow ? " narrow" : ""}">${FLAME}<span class="brand">Hearth</span><span class="spacer"></span>${opts.headerExtra}</header>
<main${opts.narrow ? raw(' class="narrow"') : ""}>
${opts.body}
</main>
<footer>Hearth XMPP server</footer>
</body>
</html>
`;
}

/** Sends a page: no caching (pages show live state and carry form tokens), the page CSP, and the status. */
export function sendPage(
  ctx: HttpContext,
  status: number,
  doc: Html,
  headers: Record<string, string | string[]> = {},
): void {
  const body = doc.value;
  ctx.res.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    "Content-Security-Policy": PAGE_CSP,
    // Browsers then send a real Origin on our own form posts (with no-referrer it is "null"); other sites still
    // learn nothing, so invitation tokens in the address never leak through links to client projects.
    "Referrer-Policy": "same-origin",
    ...headers,
  });
  ctx.res.end(ctx.req.method === "HEAD" ? undefined : body);
}

/** 303 See Other: after a form post, the browser loads the page again with GET (no re-post on reload). */
export function redirect(ctx: HttpContext, location: string, headers: Record<string, string | string[]> = {}): void {
  ctx.res.writeHead(303, { Location: location, "Content-Length": 0, "Cache-Control": "no-store", ...headers });
  ctx.res.end();
}
