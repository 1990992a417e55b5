/**
 * A local web page that runs Converse.js (from node_modules) against a Hearth test server, like a site that
 * embeds a web chat. Served from its own origin, so the browser talks to Hearth across origins as real
 * deployments often do.
 */
import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, resolve, sep } from "node:path";

const DIST = resolve(import.meta.dirname, "../../node_modules/converse.js/dist");

const TYPES: Record<string, string> = {
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".mp3": "audio/mpeg",
  ".ogg": "audio/ogg",
};

/** Converse settings for one login (see the Converse.js configuration docs). */
export type ConverseSettings = Record<string, unknown>;

function pageHtml(settings: ConverseSettings): string {
  // Converse ships as an ES module. A tiny plugin hands the test the private API (opening a chat) and the connection state.
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Converse.js on Hearth</title>
<link rel="stylesheet" href="/converse/converse.min.css">
</head><body class="converse-fullscreen">
<script type="module">
import converse from "/converse/converse.min.js";
window.hearth = { connected: false, errors: [] };
converse.plugins.add("hearth-test", {
  initialize() {
    const api = this._converse.api;
    window.hearth.api = api;
    api.listen.on("connected", () => { window.hearth.connected = true; });
    api.listen.on("disconnected", () => { window.hearth.connected = false; });
  },
});
converse.initialize(${JSON.stringify({ whitelisted_plugins: ["hearth-test"], ...settings })});
</script></body></html>`;
}

export interface ConversePage {
  /** `http://127.0.0.1:<port>/`: the page for the settings given to `setSettings`. */
  readonly url: string;
  setSettings(settings: ConverseSettings): void;
  close(): Promise<void>;
}

export async function serveConverse(initial: ConverseSettings): Promise<ConversePage> {
  let settings = initial;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/") {
      const body = pageHtml(settings);
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      res.end(body);
      return;
    }
    if (path.startsWith("/converse/")) {
      const file = resolve(DIST, `.${decodeURIComponent(path.slice("/converse".length))}`);
      if (file.startsWith(DIST + sep)) {
        try {
          if (statSync(file).isFile()) {
            res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
            createReadStream(file).pipe(res);
            return;
          }
        } catch {
          // fall through to 404
        }
      }
    }
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    setSettings(s) {
      settings = s;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
