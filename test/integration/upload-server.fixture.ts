/**
 * A test server in its own process, so that a test can measure the server's memory alone (upload.test.ts).
 * Reads its options as JSON from argv[2], prints one JSON line with the ports once listening, stops on SIGTERM.
 */

import { startTestServer, type TestServerOptions } from "../helpers/server.ts";
import { httpPort } from "../helpers/web-client.ts";

const opts = JSON.parse(process.argv[2] ?? "{}") as TestServerOptions;
const ts = await startTestServer(opts);
process.stdout.write(`${JSON.stringify({ c2sPort: ts.c2sPort, httpPort: httpPort(ts), dataDir: ts.dataDir })}\n`);
process.once("SIGTERM", () => {
  void ts.stop().then(() => process.exit(0));
});
