import { createReadStream } from "node:fs";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import { normalizeDomain, parseJid } from "../jid/jid.ts";
import { deriveCredentials, verifyPassword } from "../sasl/credentials.ts";
import { type Account, AlreadyExistsError, type ScramHash, type Storage } from "../storage/types.ts";

/** A request the manager refuses (bad JID, unknown host, weak input, duplicate). The message is for the user. */
export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AccountError";
  }
}

/** The account to create exists already. */
export class AccountExistsError extends AccountError {
  constructor(jid: string) {
    super(`the account ${jid} already exists`);
    this.name = "AccountExistsError";
  }
}

/** Longest password accepted, in UTF-8 bytes: far above any real passphrase, low enough to bound hashing work. */
export const MAX_PASSWORD_BYTES = 1024;

/** Outcome of `importFile`. Error strings name the line and the user, never the password. */
export interface ImportResult {
  created: number;
  skipped: number;
  errors: string[];
}

/** Reported to `importFile`'s callback after each line that named an account. */
export interface ImportProgress {
  processed: number;
  created: number;
  skipped: number;
  failed: number;
}

/** Hashes checked by `authenticatePlain`, strongest first: any one of them proves the password. */
const VERIFY_ORDER: ScramHash[] = ["SHA-256", "SHA-512", "SHA-1"];

/**
 * Account administration shared by the CLI and the server (in-band registration, admin commands, invitations):
 * validates JIDs and passwords, hashes passwords into SCRAM credentials (the plaintext is never stored), and
 * removes every trace of a user on deletion.
 */
export class AccountManager {
  readonly #storage: Storage;
  readonly #iterations: number;
  readonly #hosts: string[];
  readonly #beforeDelete: ((host: string, username: string) => Promise<void>) | undefined;

  /**
   * `beforeDelete` runs first when an account is deleted: the running server fires the host's `account.deleted`
   * there, so that every module removes its data (and tells contacts) before the stores are swept.
   */
  constructor(
    storage: Storage,
    opts: { iterations: number; hosts: string[]; beforeDelete?: (host: string, username: string) => Promise<void> },
  ) {
    this.#storage = storage;
    this.#iterations = opts.iterations;
    this.#hosts = opts.hosts.map((h) => normalizeDomain(h));
    this.#beforeDelete = opts.beforeDelete;
  }

  /** Parses `user@host` into its normalized parts, checking the host is one of ours. */
  parse(jid: string): { username: string; host: string; jid: string } {
    let parsed: ReturnType<typeof parseJid>;
    try {
      parsed = parseJid(jid.trim());
    } catch (e) {
      throw new AccountError(`invalid JID "${jid}": ${(e as Error).message}`);
    }
    if (parsed.local === "") throw new AccountError(`"${jid}" has no username; write it as user@${parsed.domain}`);
    if (parsed.resource !== "") throw new AccountError(`"${jid}" has a resource; give the bare JID user@host`);
    this.#checkHost(parsed.domain);
    return { username: parsed.local, host: parsed.domain, jid: parsed.bareString };
  }

  #checkHost(host: string): void {
    if (!this.#hosts.includes(host)) {
      throw new AccountError(
        `${host} is not a host of this server (hosts: ${this.#hosts.join(", ")}); add it to hosts or use --domain`,
      );
    }
  }

  /** A host name as given by a caller, normalized, if this server serves it. */
  #servedHost(host: string): string {
    let normalized: string;
    try {
      normalized = normalizeDomain(host);
    } catch (e) {
      throw new AccountError(`invalid host "${host}": ${(e as Error).message}`);
    }
    this.#checkHost(normalized);
    return normalized;
  }

  /** Rejects passwords that cannot be right, before spending time hashing them. */
  checkPassword(password: string): void {
    if (password === "") throw new AccountError("the password must not be empty");
    if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
      throw new AccountError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
    }
    // RFC 8265 §4.2 (OpaqueString, used by SCRAM for passwords) disallows control characters.
    if (/[\u0000-\u001f\u007f]/.test(password)) {
      throw new AccountError("the password must not contain control characters (tabs, newlines, …)");
    }
  }

  async #credentials(password: string) {
    this.checkPassword(password);
    try {
      return await deriveCredentials(password, this.#iterations);
    } catch (e) {
      // e.g. "invalid password: …" from the OpaqueString preparation (RFC 8265 §4.2)
      throw new AccountError((e as Error).message);
    }
  }

  /** Creates an account; AccountError if it exists or the input is invalid. */
  async create(jid: string, password: string): Promise<Account> {
    const { username, host, jid: bare } = this.parse(jid);
    const credentials = await this.#credentials(password);
    try {
      return await this.#storage.accounts.create(host, username, credentials);
    } catch (e) {
      if (e instanceof AlreadyExistsError) throw new AccountExistsError(bare);
      throw e;
    }
  }

  /** The account, or null if there is none. */
  async get(jid: string): Promise<Account | null> {
    const { username, host } = this.parse(jid);
    return this.#storage.accounts.get(host, username);
  }

  /** Replaces the password (all SCRAM records); AccountError if there is no such account. */
  async setPassword(jid: string, password: string): Promise<void> {
    const { username, host, jid: bare } = this.parse(jid);
    const credentials = await this.#credentials(password);
    if (!(await this.#storage.accounts.setCredentials(host, username, credentials))) {
      throw new AccountError(`there is no account ${bare}`);
    }
  }

  /**
   * Deletes the account and everything stored for the user: roster, offline messages, per-user documents
   * (private XML, vCard, preferences), PEP nodes and items, the message archive and the invitations the user
   * created. The user's data is removed first, so an interrupted deletion can simply be run again. Returns
   * whether the account existed.
   */
  async delete(jid: string): Promise<boolean> {
    const { username, host, jid: bare } = this.parse(jid);
    await this.#beforeDelete?.(host, username);
    await this.#storage.roster.deleteUser(host, username);
    await this.#storage.offline.deleteUser(host, username);
    await this.#storage.kv.deleteUser(host, username);
    // PEP (XEP-0163): the account's pubsub service is its bare JID.
    await this.#storage.pubsub.deleteService(bare);
    await this.#storage.archive.deleteArchive({ host, owner: username, kind: "user" });
    await this.#storage.invites.deleteByCreator(bare);
    return this.#storage.accounts.delete(host, username);
  }

  /** The accounts of one served host, by username. */
  async list(host: string): Promise<Account[]> {
    return this.#storage.accounts.list(this.#servedHost(host));
  }

  /** Checks a plaintext password against the stored SCRAM credentials (SASL PLAIN, admin tools). */
  async authenticatePlain(jid: string, password: string): Promise<boolean> {
    let parts: { username: string; host: string };
    try {
      parts = this.parse(jid);
    } catch {
      return false;
    }
    const account = await this.#storage.accounts.get(parts.host, parts.username);
    if (!account) return false;
    for (const hash of VERIFY_ORDER) {
      const record = account.credentials[hash];
      if (record) return verifyPassword(password, record, hash);
    }
    return false;
  }

  /**
   * Creates accounts from a `username:password` file, one per line (`user@host:password` also works; blank
   * lines and `#` comments are skipped). Existing accounts are left alone and counted as skipped. Hashing
   * runs a few lines at a time, since PBKDF2 dominates the cost. The file is streamed, so size does not matter.
   */
  async importFile(path: string, host: string, onProgress?: (progress: ImportProgress) => void): Promise<ImportResult> {
    const defaultHost = this.#servedHost(host);

    const input = createReadStream(path, { encoding: "utf8" });
    const opened = new Promise<void>((resolve, reject) => {
      input.once("open", () => resolve());
      input.once("error", (e) => reject(new AccountError(`cannot read ${path}: ${e.message}`)));
    });
    await opened;

    const errors: { line: number; message: string }[] = [];
    const seen = new Map<string, number>();
    const progress: ImportProgress = { processed: 0, created: 0, skipped: 0, failed: 0 };
    const inFlight = new Set<Promise<void>>();
    const parallel = Math.max(2, Math.min(8, availableParallelism()));

    const fail = (line: number, message: string) => {
      errors.push({ line, message: `line ${line}: ${message}` });
      progress.failed++;
    };
    const reject = (line: number, message: string) => {
      fail(line, message);
      progress.processed++;
      onProgress?.({ ...progress });
    };

    const importOne = async (line: number, jid: string, password: string) => {
      try {
        await this.create(jid, password);
        progress.created++;
      } catch (e) {
        if (e instanceof AccountExistsError) progress.skipped++;
        else fail(line, (e as Error).message);
      }
      progress.processed++;
      onProgress?.({ ...progress });
    };

    let lineNo = 0;
    for await (const rawLine of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      lineNo++;
      const text = lineNo === 1 ? rawLine.replace(/^\uFEFF/, "") : rawLine;
      if (text.trim() === "" || text.trimStart().startsWith("#")) continue;
      const colon = text.indexOf(":");
      if (colon <= 0) {
        // Never echo the line: it may hold a password.
        reject(lineNo, "expected username:password");
        continue;
      }
      const user = text.slice(0, colon).trim();
      const password = text.slice(colon + 1);
      let jid: string;
      try {
        jid = this.parse(user.includes("@") ? user : `${user}@${defaultHost}`).jid;
      } catch (e) {
        reject(lineNo, (e as Error).message);
        continue;
      }
      const first = seen.get(jid);
      if (first !== undefined) {
        reject(lineNo, `${jid} was already listed on line ${first}`);
        continue;
      }
      seen.set(jid, lineNo);
      const task: Promise<void> = importOne(lineNo, jid, password).finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= parallel) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    errors.sort((a, b) => a.line - b.line);
    return { created: progress.created, skipped: progress.skipped, errors: errors.map((e) => e.message) };
  }
}
