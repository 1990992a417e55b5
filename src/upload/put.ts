/**
 * PUT of a file into a slot (XEP-0363 §6). Everything is checked before a byte of the body is read: the
 * signature, expiry, reuse, Content-Length against the slot, Content-Type, quota. The body then streams to a
 * temporary file (memory use does not grow with the file) that is renamed into place once complete.
 */
import { createWriteStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { HttpContext } from "../http/routes.ts";
import { parseJid } from "../jid/jid.ts";
import { AlreadyExistsError } from "../storage/types.ts";
import { answer, type UploadPath } from "./http.ts";
import { guessContentType, normalizeContentType, sanitizeFilename, typeAllowed } from "./names.ts";
import type { UploadBackend, Uploader } from "./service.ts";
import { type SlotClaims, verifySlot } from "./signing.ts";

/** An upload that sends nothing for this long is abandoned. */
const IDLE_TIMEOUT_MS = 60_000;

/** Reads the claims of a PUT URL; null if a parameter is missing or malformed. */
function claimsOf(ctx: HttpContext, path: UploadPath): { claims: SlotClaims; sig: string } | null {
  const q = ctx.url.searchParams;
  const owner = q.get("jid");
  const size = q.get("size");
  const type = q.get("type");
  const expires = q.get("expires");
  const sig = q.get("sig");
  if (owner === null || size === null || type === null || expires === null || sig === null) return null;
  if (!/^\d{1,16}$/.test(size) || !/^\d{1,12}$/.test(expires)) return null;
  return {
    claims: {
      id: path.id,
      owner,
      filename: path.filename,
      size: Number(size),
      contentType: type,
      expires: Number(expires),
    },
    sig,
  };
}

export async function receiveUpload(backend: UploadBackend, ctx: HttpContext, path: UploadPath): Promise<void> {
  const parsed = claimsOf(ctx, path);
  // The signature covers the path (slot id and file name) and every limit: nothing in the URL can be changed.
  if (!parsed || !verifySlot(backend.secret, parsed.claims, parsed.sig)) {
    return answer(ctx, 403, "Forbidden: invalid upload URL", true);
  }
  const { claims } = parsed;
  if (claims.expires * 1000 < Date.now()) return answer(ctx, 403, "Forbidden: this upload URL has expired", true);
  if (backend.inProgress.has(claims.id) || (await backend.store.get(claims.id))) {
    return answer(ctx, 403, "Forbidden: this upload URL was already used", true);
  }

  const h = ctx.req.headers;
  if (h["content-length"] === undefined) return answer(ctx, 411, "Length Required", true);
  const length = Number(h["content-length"]);
  // XEP-0363 §6: the Content-Length of the PUT must match the size of the slot request.
  if (length > claims.size) return answer(ctx, 413, `Payload Too Large: the slot is for ${claims.size} bytes`, true);
  if (length !== claims.size) {
    return answer(ctx, 400, `Bad Request: Content-Length must be ${claims.size}, the slot's size`, true);
  }
  const sent = h["content-type"] === undefined ? null : normalizeContentType(h["content-type"]);
  let contentType: string;
  if (claims.contentType !== "") {
    // The client declared a type in its slot request; the PUT must carry the same one (XEP-0363 §6).
    if (sent !== claims.contentType) {
      return answer(ctx, 400, `Bad Request: Content-Type must be ${claims.contentType}, as in the slot request`, true);
    }
    contentType = claims.contentType;
  } else {
    contentType = sent ?? guessContentType(claims.filename);
    if (!typeAllowed(contentType, backend.settings.allowed_types)) {
      return answer(ctx, 415, "Unsupported Media Type: files of this type are not accepted here", true);
    }
  }
  if (sanitizeFilename(claims.filename) !== claims.filename) return answer(ctx, 403, "Forbidden: bad file name", true);

  let owner: Uploader;
  try {
    const jid = parseJid(claims.owner);
    owner = { host: jid.domain, username: jid.local };
  } catch {
    return answer(ctx, 403, "Forbidden: invalid upload URL", true);
  }
  // Two slots granted before either file arrived could together exceed the quota: check again, counting
  // uploads still in progress.
  const quota = backend.settings.quota_per_user;
  if (quota > 0) {
    const used = (await backend.usage(owner)).bytes + backend.pending(owner);
    if (used + claims.size > quota) return answer(ctx, 413, "Payload Too Large: upload quota reached", true);
  }
  if (backend.inProgress.has(claims.id)) return answer(ctx, 403, "Forbidden: this upload URL was already used", true);

  backend.inProgress.add(claims.id);
  backend.beginPending(owner, claims.size);
  const temp = backend.files.tempPath();
  try {
    const received = await streamToFile(ctx, temp, claims.size);
    if (received !== claims.size) {
      // The client went away before sending everything (Node ends the body at Content-Length, never after).
      await backend.files.discard(temp);
      if (!ctx.res.headersSent && !ctx.req.socket.destroyed) answer(ctx, 400, "Bad Request: incomplete body", true);
      return;
    }
    await backend.files.commit(temp, claims.id);
    try {
      await backend.store.add({
        id: claims.id,
        host: owner.host,
        username: owner.username,
        filename: claims.filename,
        size: claims.size,
        contentType,
        createdAt: Date.now(),
      });
    } catch (err) {
      await backend.files.remove(claims.id);
      if (err instanceof AlreadyExistsError) return answer(ctx, 403, "Forbidden: this upload URL was already used");
      throw err;
    }
    backend.server.metrics.uploadBytes += claims.size;
    backend.log.debug({ id: claims.id, owner: claims.owner, size: claims.size }, "upload stored");
    ctx.res.writeHead(201, { "Content-Length": 0 });
    ctx.res.end();
  } catch (err) {
    await backend.files.discard(temp);
    throw err;
  } finally {
    backend.inProgress.delete(claims.id);
    backend.endPending(owner, claims.size);
  }
}

/**
 * Streams the request body into `path`, with backpressure, and returns how many bytes arrived. Stops reading
 * and closes the connection if more than `limit` bytes come or the client stalls.
 */
async function streamToFile(ctx: HttpContext, path: string, limit: number): Promise<number> {
  let received = 0;
  // Restarted on every chunk: a stalled client must not hold a file descriptor and quota forever.
  const timer = setTimeout(() => ctx.req.destroy(new Error("upload stalled")), IDLE_TIMEOUT_MS);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      received += chunk.length;
      timer.refresh();
      if (received > limit) return done(new Error("body larger than the slot"));
      done(null, chunk);
    },
  });
  const file = createWriteStream(path, { flags: "wx", mode: 0o600 });
  let diskError: Error | null = null;
  file.on("error", (err) => {
    diskError ??= err;
  });
  try {
    await pipeline(ctx.req, counter, file);
  } catch {
    // The disk failing (full, permissions) is our error; a client that disconnects mid-upload is normal and
    // the caller sees the short count.
    if (diskError) throw diskError;
    if (received > limit) ctx.req.socket.destroy();
  } finally {
    clearTimeout(timer);
  }
  return received;
}
