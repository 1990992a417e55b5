/**
 * Names in upload URLs: slot ids, file names and content types. Nothing a client sends ever becomes part of a
 * path on disk (files are stored under their slot id, see files.ts); the file name only appears in the URL and
 * in the Content-Disposition of downloads.
 */
import { randomBytes } from "node:crypto";

/** 16 random bytes in base64url: 22 characters from [A-Za-z0-9_-]. */
const SLOT_ID = /^[A-Za-z0-9_-]{22}$/;

/** A new, unguessable slot id (128 bits). */
export function newSlotId(): string {
  return randomBytes(16).toString("base64url");
}

export function isSlotId(s: string): boolean {
  return SLOT_ID.test(s);
}

/** Longest file name kept, in UTF-8 bytes; longer names are shortened, keeping the extension. */
export const MAX_FILENAME_BYTES = 200;

/**
 * Turns the file name a client asked for into one safe to put in a URL path segment and a header: the last
 * path segment only, without control or bidi-override characters, not `.` or `..`, at most 200 bytes.
 * Returns null if nothing usable is left.
 */
export function sanitizeFilename(name: string): string | null {
  const last = name.split(/[/\\]/).pop() ?? "";
  // Controls (C0, DEL, C1) and bidi overrides/isolates, which make "exe.png" out of "png.exe" on screen.
  const cleaned = last
    .normalize("NFC")
    .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "")
    .trim();
  if (cleaned === "" || /^\.+$/.test(cleaned)) return null;
  if (Buffer.byteLength(cleaned) <= MAX_FILENAME_BYTES) return cleaned;
  const dot = cleaned.lastIndexOf(".");
  const ext = dot > 0 && cleaned.length - dot <= 16 ? cleaned.slice(dot) : "";
  // Whole code points from the start, as many as fit: linear in what is kept, so a name as long as a stanza
  // allows (hundreds of KB) costs no more than a short one. Removing one character at a time from the end was
  // quadratic and froze the event loop for minutes.
  const budget = MAX_FILENAME_BYTES - Buffer.byteLength(ext);
  let stem = "";
  let bytes = 0;
  for (const ch of cleaned.slice(0, cleaned.length - ext.length)) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > budget) break;
    stem += ch;
    bytes += n;
  }
  return stem + ext;
}

/** RFC 9110 §8.3.1 media type `type/subtype` (parameters dropped), lower-cased; null if malformed. */
export function normalizeContentType(value: string): string | null {
  const base = (value.split(";")[0] ?? "").trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(base) ? base : null;
}

/** Whether a content type is in `upload.allowed_types` (`image/png`, or `image/*`); an empty list allows all. */
export function typeAllowed(type: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const major = type.split("/")[0];
  return allowed.some((a) => {
    const pattern = a.toLowerCase();
    return pattern === type || (pattern.endsWith("/*") && pattern.slice(0, -2) === major);
  });
}

const BY_EXTENSION: Record<string, string> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  heic: "image/heic",
  svg: "image/svg+xml",
  mp4: "video/mp4",
  webm: "video/webm",
  mov: "video/quicktime",
  m4a: "audio/mp4",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/ogg",
  wav: "audio/wav",
  pdf: "application/pdf",
  txt: "text/plain",
  zip: "application/zip",
};

/**
 * The type to store when the client named none (the content-type attribute is optional, XEP-0363 §4):
 * guessed from common extensions, else `application/octet-stream`.
 */
export function guessContentType(filename: string): string {
  const ext = filename.includes(".") ? filename.split(".").pop()?.toLowerCase() : undefined;
  return (ext && BY_EXTENSION[ext]) || "application/octet-stream";
}

/**
 * Types a browser may show inline from our origin. Everything else, and anything that could run script
 * (HTML, SVG, XML), is served as an attachment; every download also gets a sandboxing CSP.
 */
export function showInline(type: string): boolean {
  if (type === "image/svg+xml") return false;
  return /^(image|audio|video)\//.test(type) || type === "application/pdf" || type === "text/plain";
}
