import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";

const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split(".")[0]);

/**
 * The better-sqlite3 constructor for this Node version. Version 12 is built on `node::ObjectWrap`, whose
 * destructor aborts Node 24 when a statement is garbage-collected while no JS context is current (seen at
 * exit and under load). Version 13 is built on Node-API, which fixes that, but needs Node >= 22. Both have
 * the same JavaScript API, so Hearth loads 13 (installed as `better-sqlite3-napi`) where it runs and 12 on
 * Node 20.
 */
export const Database: typeof BetterSqlite3 = require(nodeMajor >= 22 ? "better-sqlite3-napi" : "better-sqlite3");

/** An open connection (the driver's `Database` instance type). */
export type Connection = BetterSqlite3.Database;
