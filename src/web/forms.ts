/**
 * What the built-in pages' forms share: reading urlencoded bodies, refusing cross-site posts, and signed form
 * tokens (CSRF) that expire.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { HttpContext } from "../http/routes.ts";
import { HttpError } from "../http/routes.ts";

/** Largest form body the pages accept: a few short fields. */
export const MAX_FORM_BYTES = 8192;

/** Reads an `application/x-www-form-urlencoded` body. */
export async function readForm(ctx: HttpContext): Promise<URLSearchParams> {
  const type = (ctx.req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new HttpError(415, "Unsupported Media Type");
  return new URLSearchParams((await ctx.body()).toString("utf8"));
}

/**
 * Whether a POST comes from one of our own pages. Current browsers say so in `Sec-Fetch-Site`, which pages
 * cannot forge; otherwise `Origin` must be ours. A request with neither is not from a browser, so it carries no
 * victim's cookies and cannot be a cross-site request forgery.
 */
export function sameOrigin(ctx: HttpContext): boolean {
  const site = ctx.req.headers["sec-fetch-site"];
  if (site !== undefined) return site === "same-origin" || site === "none";
  const origin = ctx.req.headers.origin;
  if (origin === undefined) return true;
  const ours = [`${ctx.scheme}://${ctx.authority}`.toLowerCase()];
  try {
    ours.push(new URL(ctx.baseUrl).origin.toLowerCase());
  } catch {
    // baseUrl is always a URL; nothing to add otherwise.
  }
  return ours.includes(origin.toLowerCase());
}

/**
 * Form tokens: `<issued>.<mac>` where the MAC covers a purpose string (e.g. the invitation or the admin
 * session it belongs to) and the time it was issued. A token from one form cannot be used for another, and
 * old ones expire. The key lives in memory: a restart only invalidates open forms.
 */
export class FormTokens {
  private readonly key = randomBytes(32);

  constructor(private readonly maxAgeMs: number) {}

  private mac(purpose: string, issued: string): Buffer {
    return createHmac("sha256", this.key).update(`${purpose}\n${issued}`).digest();
  }

  issue(purpose: string, now = Date.now()): string {
    const issued = String(now);
    return `${issued}.${this.mac(purpose, issued).toString("base64url")}`;
  }

  check(purpose: string, token: string | null, now = Date.now()): boolean {
    if (!token) return false;
    const [issued = "", mac = ""] = token.split(".");
    if (!/^\d{1,15}$/.test(issued)) return false;
    const age = now - Number(issued);
    if (age < 0 || age > this.maxAgeMs) return false;
    const given = Buffer.from(mac, "base64url");
    const expected = this.mac(purpose, issued);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** The first value of a cookie in the request, or undefined. */
export function readCookie(ctx: HttpContext, name: string): string | undefined {
  const header = ctx.req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
