/**
 * GET and HEAD of an uploaded file: the stored Content-Type, exact Content-Length, validators (ETag,
 * Last-Modified) with conditional requests, single byte ranges (RFC 9110 §14), and long caching, since a
 * file at a slot URL never changes.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { HttpContext } from "../http/routes.ts";
import { answer, type UploadPath } from "./http.ts";
import { showInline } from "./names.ts";
import { parseRange } from "./range.ts";
import type { UploadBackend } from "./service.ts";

/** Longest time caches may keep a file (a year), when no retention period ends it sooner. */
const MAX_AGE_S = 365 * 86400;

/**
 * Downloads may be anything a user uploaded, including HTML. `sandbox` turns such a page into an opaque origin
 * with no scripts, so it can never act as this server (the admin page lives on the same origin).
 */
const DOWNLOAD_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/** RFC 6266 Content-Disposition with the UTF-8 name (RFC 8187) and an ASCII fallback. */
function disposition(type: string, filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const kind = showInline(type) ? "inline" : "attachment";
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** Whether `If-None-Match` lists our entity tag (weak comparison, RFC 9110 §13.1.2). */
function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

export async function serveUpload(backend: UploadBackend, ctx: HttpContext, path: UploadPath): Promise<void> {
  const record = await backend.store.get(path.id);
  // The file name is part of the URL handed out; another name for the same id is not the same resource.
  if (!record || record.filename !== path.filename) return answer(ctx, 404, "Not Found");
  const retention = backend.settings.retention_days;
  const expires = retention > 0 ? record.createdAt + retention * 86_400_000 : Number.POSITIVE_INFINITY;
  // Past its retention period a file is gone, even before the hourly sweep deletes it.
  if (expires <= Date.now()) return answer(ctx, 404, "Not Found");
  let size: number;
  const file = backend.files.pathOf(record.id);
  try {
    size = (await stat(file)).size;
  } catch {
    return answer(ctx, 404, "Not Found");
  }

  const etag = `"${record.id}"`;
  const modified = new Date(Math.floor(record.createdAt / 1000) * 1000);
  const left = Math.floor((expires - Date.now()) / 1000);
  const res = ctx.res;
  res.setHeader("ETag", etag);
  res.setHeader("Last-Modified", modified.toUTCString());
  res.setHeader("Cache-Control", `public, max-age=${Math.min(MAX_AGE_S, left)}, immutable`);
  res.setHeader("Accept-Ranges", "bytes");
  res.setHeader("Content-Security-Policy", DOWNLOAD_CSP);
  // Images and media are embedded by web clients served from other origins.
  res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");

  // RFC 9110 §13.2.2: If-None-Match first; If-Modified-Since only without it.
  const h = ctx.req.headers;
  const inm = h["if-none-match"];
  const ims = h["if-modified-since"];
  if (inm !== undefined ? etagMatches(inm, etag) : ims !== undefined && Date.parse(ims) >= modified.getTime()) {
    res.writeHead(304);
    res.end();
    return;
  }

  res.setHeader("Content-Type", record.contentType);
  res.setHeader("Content-Disposition", disposition(record.contentType, record.filename));
  // If-Range (§13.1.5): the range applies only if the client's copy is this one.
  const ifRange = typeof h["if-range"] === "string" ? h["if-range"] : undefined;
  const rangeValid =
    ifRange === undefined ||
    ifRange === etag ||
    (!ifRange.startsWith('"') && Date.parse(ifRange) === modified.getTime());
  const range = rangeValid ? parseRange(h.range, size) : null;
  if (range === "unsatisfiable") {
    res.writeHead(416, { "Content-Range": `bytes */${size}`, "Content-Length": 0 });
    res.end();
    return;
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  const length = size === 0 ? 0 : end - start + 1;
  if (range) res.setHeader("Content-Range", `bytes ${start}-${end}/${size}`);
  res.writeHead(range ? 206 : 200, { "Content-Length": length });
  if (ctx.req.method === "HEAD" || length === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  stream.on("error", (err) => {
    backend.log.warn({ err, id: record.id }, "reading an upload failed");
    res.destroy();
  });
  res.on("close", () => stream.destroy());
  stream.pipe(res);
}
