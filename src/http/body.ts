import type { IncomingMessage } from "node:http";
import { HttpError } from "./routes.ts";

/** How long a client may take to send a (small, buffered) request body. */
const BODY_TIMEOUT_MS = 30_000;

/**
 * Reads a request body into memory, refusing more than `limit` bytes: past the limit it stops reading and
 * rejects with HttpError 413 (the listener then answers and closes the connection). Meant for small bodies
 * (BOSH, forms); streaming handlers (uploads) read `req` themselves.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "NaN");
    if (declared > limit) {
      reject(new HttpError(413, `request body over ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(new HttpError(408, "request body took too long")), BODY_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    const fail = (err: Error) => {
      cleanup();
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(new HttpError(413, `request body over ${limit} bytes`));
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    // The client went away mid-body ("aborted"): its request is void, not a server failure to log as one.
    const onError = () => fail(new HttpError(400, "the request body ended early"));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
