/**
 * Metadata of files received by HTTP File Upload (XEP-0363). The bytes live on disk under the data dir
 * (`src/upload/files.ts`); a record exists for every completed upload and is what GET, quotas and the
 * retention sweep read.
 */

/** One uploaded file. */
export interface UploadRecord {
  /** The slot id: random, URL-safe, unique across the server. Also the file's name on disk. */
  id: string;
  /** The uploader's account (normalized host and username). */
  host: string;
  username: string;
  /** The file name the client asked for, after sanitizing; the last segment of the GET URL. */
  filename: string;
  /** Bytes. */
  size: number;
  /** The Content-Type served on GET. */
  contentType: string;
  /** Milliseconds since the epoch when the upload completed. */
  createdAt: number;
}

/** What one account stores. */
export interface UploadUsage {
  files: number;
  bytes: number;
}

export interface UploadStore {
  /** Records a completed upload. Rejects with `AlreadyExistsError` if the id is taken (a reused slot). */
  add(record: UploadRecord): Promise<void>;
  get(id: string): Promise<UploadRecord | null>;
  /** Files and bytes stored by one account (for quotas). */
  usage(host: string, username: string): Promise<UploadUsage>;
  /** Files and bytes stored by everyone (admin page). */
  totals(): Promise<UploadUsage>;
  /** One account's uploads, oldest first. */
  listUser(host: string, username: string): Promise<UploadRecord[]>;
  /** Up to `limit` uploads created before `before` (ms), oldest first: what the retention sweep deletes. */
  listOlderThan(before: number, limit: number): Promise<UploadRecord[]>;
  /** Removes records; returns how many existed. */
  remove(ids: string[]): Promise<number>;
}
