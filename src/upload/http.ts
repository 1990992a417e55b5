import type { ServerResponse } from "node:http";
import type { HttpContext, HttpRoute } from "../http/routes.ts";
import { serveUpload } from "./get.ts";
import { isSlotId } from "./names.ts";
import { receiveUpload } from "./put.ts";
import type { UploadBackend } from "./service.ts";

/** The slot id and file name of an upload URL path. */
export interface UploadPath {
  id: string;
  /** Decoded. */
  filename: string;
}

/**
 * Splits `<slot id>/<file name>` (the part after `/upload/`). Anything else, including extra segments, dot
 * segments, a malformed id or bad percent-encoding, is null, answered with 404 by the caller.
 */
export function parseUploadPath(subpath: string): UploadPath | null {
  const parts = subpath.split("/");
  if (parts.length !== 2) return null;
  const [id = "", encoded = ""] = parts;
  if (!isSlotId(id) || encoded === "") return null;
  let filename: string;
  try {
    filename = decodeURIComponent(encoded);
  } catch {
    return null;
  }
  if (filename.includes("/") || filename.includes("\\") || /^\.+$/.test(filename)) return null;
  return { id, filename };
}

/** A short plain-text answer. With `close`, the connection closes after it, so an unread body is never read. */
export function answer(ctx: HttpContext, status: number, text: string, close = false): void {
  const res: ServerResponse = ctx.res;
  const body = `${text}\n`;
  if (close) {
    res.setHeader("Connection", "close");
    res.on("finish", () => ctx.req.socket.destroySoon());
  }
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * `/upload/<slot id>/<file name>`: PUT stores a file for a signed slot, GET and HEAD serve it. Public and
 * credential-free (the PUT URL is the credential), so web clients on other origins may use it (CORS `*`).
 */
export function uploadRoute(backend: UploadBackend): HttpRoute {
  return {
    path: "/upload/",
    methods: ["GET", "PUT"],
    cors: true,
    // The PUT handler streams the body to disk and enforces the slot's size itself.
    maxBodyBytes: Number.POSITIVE_INFINITY,
    handler(ctx) {
      const path = parseUploadPath(ctx.subpath);
      const put = ctx.req.method === "PUT";
      if (!path) return answer(ctx, 404, "Not Found", put);
      return put ? receiveUpload(backend, ctx, path) : serveUpload(backend, ctx, path);
    },
  };
}
