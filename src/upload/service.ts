/**
 * The upload backend of one server: signing secret, files on disk, the `/upload/` route, slot issuing with
 * limits and quotas, and the retention sweep. Every host's upload service (`upload.<host>`) shares it, since
 * one HTTP route serves them all; hosts acquire it while they load and release it when they stop.
 */

import type { UploadConfig } from "../config/types.ts";
import type { Server } from "../core/server.ts";
import type { Logger } from "../log.ts";
import type { UploadStore, UploadUsage } from "../storage/uploads.ts";
import { UploadFiles } from "./files.ts";
import { uploadRoute } from "./http.ts";
import { guessContentType, newSlotId, normalizeContentType, sanitizeFilename, typeAllowed } from "./names.ts";
import { loadUploadSecret, SLOT_LIFETIME_MS, type SlotClaims, signSlot } from "./signing.ts";

/** Where uploads are mounted; GET and PUT URLs are `<base>/upload/<slot id>/<file name>`. */
export const UPLOAD_PATH = "/upload/";

/** How often expired files are looked for. */
const SWEEP_INTERVAL_MS = 60 * 60_000;
/** Records deleted per sweep batch, so one sweep never holds storage for long. */
const SWEEP_BATCH = 500;

/** Why a slot request is refused; the module maps these to XEP-0363 §5 errors. */
export class SlotRefused extends Error {
  constructor(
    readonly reason: "bad-request" | "too-large" | "type" | "quota" | "no-http",
    message: string,
  ) {
    super(message);
    this.name = "SlotRefused";
  }
}

/** What a client asks for in `<request/>` (XEP-0363 §4). */
export interface SlotRequest {
  filename: string;
  size: number;
  /** As the client sent it, if it did. */
  contentType?: string;
}

/** The answer to a slot request. */
export interface Slot {
  put: string;
  get: string;
}

/** An account, by normalized host and username. */
export interface Uploader {
  host: string;
  username: string;
}

export class UploadBackend {
  readonly files: UploadFiles;
  readonly log: Logger;
  readonly settings: UploadConfig;
  /** Slot ids with a PUT in progress: a second PUT on the same slot is refused while the first runs. */
  readonly inProgress = new Set<string>();
  /** Bytes being uploaded per account (`user@host`), counted against the quota before they are stored. */
  private readonly pendingBytes = new Map<string, number>();
  private secretKey: Buffer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private unmount: (() => void) | null = null;
  private sweeping: Promise<number> | null = null;

  constructor(readonly server: Server) {
    this.settings = server.config.upload;
    this.files = new UploadFiles(server.config.data_dir);
    this.log = server.log.child({ component: "upload" });
  }

  get store(): UploadStore {
    return this.server.storage.uploads;
  }

  get secret(): Buffer {
    if (!this.secretKey) throw new Error("upload backend not started");
    return this.secretKey;
  }

  async start(): Promise<void> {
    this.secretKey = await loadUploadSecret(this.server.config.data_dir);
    await this.files.init();
    this.unmount = this.server.http.add(uploadRoute(this));
    if (this.settings.retention_days > 0) {
      this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
      this.timer.unref();
      void this.sweep();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unmount?.();
    this.unmount = null;
    await this.sweeping;
  }

  /**
   * Checks a slot request against the limits and quota and returns signed URLs (XEP-0363 §4). `host` is the
   * user host whose upload service answers: its name is the HTTP host of the URLs unless `http.external_url` is set.
   */
  async requestSlot(user: Uploader, req: SlotRequest, host: string): Promise<Slot> {
    const filename = sanitizeFilename(req.filename);
    if (!filename) throw new SlotRefused("bad-request", "The file name is empty or not allowed");
    if (!Number.isSafeInteger(req.size) || req.size <= 0) {
      throw new SlotRefused("bad-request", "The size must be a positive number of bytes");
    }
    const max = this.settings.max_file_size;
    if (req.size > max) throw new SlotRefused("too-large", `File too large. The maximum file size is ${max} bytes`);
    let declared = "";
    if (req.contentType !== undefined && req.contentType.trim() !== "") {
      const t = normalizeContentType(req.contentType);
      if (!t) throw new SlotRefused("bad-request", "The content-type is not a valid media type");
      declared = t;
    }
    if (!typeAllowed(declared || guessContentType(filename), this.settings.allowed_types)) {
      throw new SlotRefused("type", "Files of this type are not accepted here");
    }
    const quota = this.settings.quota_per_user;
    if (quota > 0) {
      const used = (await this.store.usage(user.host, user.username)).bytes + this.pending(user);
      if (used + req.size > quota) {
        throw new SlotRefused("quota", `Quota reached: ${used} of ${quota} bytes used, the file needs ${req.size}`);
      }
    }
    const base = this.baseUrl(host);
    if (!base) throw new SlotRefused("no-http", "The server has no HTTP listener for uploads");
    const claims: SlotClaims = {
      id: newSlotId(),
      owner: `${user.username}@${user.host}`,
      filename,
      size: req.size,
      contentType: declared,
      expires: Math.floor((Date.now() + SLOT_LIFETIME_MS) / 1000),
    };
    const path = `${base}${UPLOAD_PATH}${claims.id}/${encodeURIComponent(filename)}`;
    const query = new URLSearchParams({
      jid: claims.owner,
      size: String(claims.size),
      type: claims.contentType,
      expires: String(claims.expires),
      sig: signSlot(this.secret, claims),
    });
    return { put: `${path}?${query}`, get: path };
  }

  /**
   * The public base URL of uploads: `http.external_url`, else HTTPS on the host's name when the HTTPS listener
   * runs, else plain HTTP. Null when there is no HTTP listener at all.
   */
  baseUrl(host: string): string | null {
    const external = this.server.config.http.external_url.replace(/\/+$/, "");
    if (external) return external;
    const listening = this.server.listening;
    const https = listening.find((l) => l.name === "https");
    if (https) return `https://${host}:${https.port}`;
    const http = listening.find((l) => l.name === "http");
    if (http) return `http://${host}:${http.port}`;
    return null;
  }

  // ---- quota bookkeeping for uploads in progress -------------------------------------------------------------

  pending(user: Uploader): number {
    return this.pendingBytes.get(`${user.username}@${user.host}`) ?? 0;
  }

  /** Counts an upload in progress against the account's quota until `endPending`. */
  beginPending(user: Uploader, bytes: number): void {
    const key = `${user.username}@${user.host}`;
    this.pendingBytes.set(key, (this.pendingBytes.get(key) ?? 0) + bytes);
  }

  endPending(user: Uploader, bytes: number): void {
    const key = `${user.username}@${user.host}`;
    const left = (this.pendingBytes.get(key) ?? 0) - bytes;
    if (left > 0) this.pendingBytes.set(key, left);
    else this.pendingBytes.delete(key);
  }

  usage(user: Uploader): Promise<UploadUsage> {
    return this.store.usage(user.host, user.username);
  }

  // ---- deletion ----------------------------------------------------------------------------------------------

  /**
   * Deletes files older than `upload.retention_days` (records first, so nothing serves a half-deleted file).
   * Returns how many were deleted. `now` is for tests.
   */
  sweep(now = Date.now()): Promise<number> {
    if (this.settings.retention_days <= 0) return Promise.resolve(0);
    if (this.sweeping) return this.sweeping;
    const cutoff = now - this.settings.retention_days * 86_400_000;
    this.sweeping = (async () => {
      let deleted = 0;
      try {
        for (;;) {
          const batch = await this.store.listOlderThan(cutoff, SWEEP_BATCH);
          if (batch.length === 0) break;
          deleted += await this.deleteRecords(batch.map((r) => r.id));
          if (batch.length < SWEEP_BATCH) break;
        }
        if (deleted > 0) this.log.info({ deleted }, "deleted expired uploads");
      } catch (err) {
        this.log.error({ err }, "upload retention sweep failed");
      } finally {
        this.sweeping = null;
      }
      return deleted;
    })();
    return this.sweeping;
  }

  /** Deletes every upload of an account (account deletion). */
  async deleteUser(user: Uploader): Promise<number> {
    const records = await this.store.listUser(user.host, user.username);
    return this.deleteRecords(records.map((r) => r.id));
  }

  private async deleteRecords(ids: string[]): Promise<number> {
    const n = await this.store.remove(ids);
    for (const id of ids) await this.files.remove(id);
    return n;
  }
}

const backends = new WeakMap<Server, { backend: UploadBackend; users: number; ready: Promise<void> }>();

/**
 * The server's upload backend, started on first use. Each acquiring host calls the returned release function
 * when it stops; the last one stops the backend (route, timer).
 */
export async function acquireUploadBackend(
  server: Server,
): Promise<{ backend: UploadBackend; release(): Promise<void> }> {
  let entry = backends.get(server);
  if (!entry) {
    const backend = new UploadBackend(server);
    entry = { backend, users: 0, ready: backend.start() };
    backends.set(server, entry);
  }
  entry.users++;
  const current = entry;
  try {
    await current.ready;
  } catch (err) {
    backends.delete(server);
    throw err;
  }
  let released = false;
  return {
    backend: current.backend,
    async release() {
      if (released) return;
      released = true;
      if (--current.users === 0) {
        backends.delete(server);
        await current.backend.stop();
      }
    },
  };
}
