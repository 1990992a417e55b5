/**
 * Where uploaded bytes live: `<data_dir>/uploads/<first two characters of the id>/<id>`, with uploads in
 * progress under `<data_dir>/uploads/tmp/`. Paths are built from slot ids only (checked by `isSlotId`), never from
 * anything else a client sends, so no URL can reach outside the directory.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { isSlotId } from "./names.ts";

export class UploadFiles {
  readonly root: string;
  readonly tmp: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, "uploads");
    this.tmp = join(this.root, "tmp");
  }

  /** Creates the directories and removes what interrupted uploads left behind. */
  async init(): Promise<void> {
    await mkdir(this.tmp, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.tmp)) await rm(join(this.tmp, name), { force: true });
  }

  /** The final path of an upload. Throws on anything that is not a slot id. */
  pathOf(id: string): string {
    if (!isSlotId(id)) throw new Error(`not a slot id: ${JSON.stringify(id)}`);
    return join(this.root, id.slice(0, 2), id);
  }

  /** A fresh path for an upload in progress. */
  tempPath(): string {
    return join(this.tmp, randomBytes(12).toString("hex"));
  }

  /** Moves a finished upload into place (same file system, so the file appears complete or not at all). */
  async commit(tempPath: string, id: string): Promise<void> {
    const final = this.pathOf(id);
    await mkdir(join(this.root, id.slice(0, 2)), { recursive: true, mode: 0o700 });
    await rename(tempPath, final);
  }

  /** Deletes an upload's file; one that is already gone is fine. */
  remove(id: string): Promise<void> {
    return unlinkIfThere(this.pathOf(id));
  }

  /** Deletes an unfinished upload. */
  discard(tempPath: string): Promise<void> {
    return unlinkIfThere(tempPath);
  }
}

async function unlinkIfThere(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
