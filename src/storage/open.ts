import { openSqliteStorage } from "./sqlite/index.ts";
import type { Storage } from "./types.ts";

/** Which backend to open and where. PostgreSQL will be another member of this union. */
export type StorageOptions = { driver: "sqlite"; path: string };

/** Opens the configured storage backend. For SQLite, `path` is a file name or ":memory:". */
export async function openStorage(opts: StorageOptions): Promise<Storage> {
  switch (opts.driver) {
    case "sqlite":
      return openSqliteStorage(opts.path);
    default: {
      const unknown: never = opts.driver;
      throw new Error(`unknown storage driver ${String(unknown)}`);
    }
  }
}
