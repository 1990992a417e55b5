import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH";

/** What the listener worked out about a request, once, before any route sees it (see request.ts). */
export interface HttpRequestInfo {
  /** Path and query of the request (the origin is the base URL). */
  readonly url: URL;
  /** The client's address: the peer, or what a trusted proxy says in X-Forwarded-For. */
  readonly clientAddress: string;
  /** The TCP peer (the proxy, when there is one). */
  readonly peerAddress: string;
  /** The request carries proxy headers (X-Forwarded-*, Forwarded): the TCP peer is not the client itself. */
  readonly proxied: boolean;
  /**
   * The client's channel is confidential: HTTPS to us, HTTPS to a trusted proxy, or loopback without a
   * proxy in between. This is what `c2s.require_encryption` checks for WebSocket and BOSH.
   */
  readonly secure: boolean;
  /** `https` or `http`, as the client sees it. */
  readonly scheme: "http" | "https";
  /** Host and port as the client sees them (Host, or X-Forwarded-Host from a trusted proxy). */
  readonly authority: string;
  /** `http.external_url` when set, else `scheme://authority`; no trailing slash. */
  readonly baseUrl: string;
}

/** Everything a route handler gets. */
export interface HttpContext extends HttpRequestInfo {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The part of the path after a prefix route's path (`/upload/abc/x.png` → `abc/x.png`); "" for exact routes. */
  readonly subpath: string;
  /**
   * Reads the whole request body, up to the route's `maxBodyBytes`. Past the limit the answer is 413 and the
   * connection is closed without reading the rest.
   */
  body(): Promise<Buffer>;
}

/**
 * Thrown by a handler (or `ctx.body()`) to answer with an HTTP error status; the listener writes it if nothing
 * was sent yet. 413 also closes the connection, so an oversized body is never read to its end.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** A request handler mounted on a path. */
export interface HttpRoute {
  /** Exact path (`/status`), or a prefix when it ends with `/` (`/upload/`). */
  path: string;
  /** Methods served; HEAD is implied by GET. OPTIONS is answered by the listener. */
  methods: HttpMethod[];
  /**
   * Public, credential-free endpoint: any origin may call it (CORS `*`), and preflights are answered.
   * Never set this on routes that use cookies or other ambient credentials.
   */
  cors?: boolean;
  /**
   * Largest request body, in bytes (default 0: no body). A larger declared Content-Length is refused with 413
   * before the handler runs. `Infinity` hands the raw stream to the handler, which enforces its own limit
   * (streaming uploads).
   */
  maxBodyBytes?: number;
  handler(ctx: HttpContext): void | Promise<void>;
}

/** A handler for HTTP Upgrade requests (WebSocket) on an exact path. */
export interface UpgradeRoute {
  path: string;
  handler(req: IncomingMessage, socket: Duplex, head: Buffer, info: HttpRequestInfo): void;
}

/**
 * The one route table all HTTP features share (WebSocket, BOSH, discovery, status, metrics, and modules such as
 * file upload or the invite page). It lives on the core `Server` (`server.http`) so a module can mount routes
 * while it loads, before the listeners start:
 *
 *     ctx.onStop(ctx.server.http.add({ path: "/upload/", methods: ["PUT", "GET"], maxBodyBytes: Infinity, handler }));
 */
export class HttpRoutes {
  private readonly exact = new Map<string, HttpRoute>();
  /** Prefix routes, longest first. */
  private prefixes: HttpRoute[] = [];
  private readonly upgrades = new Map<string, UpgradeRoute>();

  /** Mounts a route; returns the function that removes it. Throws if the path is taken. */
  add(route: HttpRoute): () => void {
    if (!route.path.startsWith("/")) throw new Error(`HTTP route path must start with '/': ${route.path}`);
    if (route.path.endsWith("/") && route.path !== "/") {
      if (this.prefixes.some((r) => r.path === route.path)) throw new Error(`HTTP route ${route.path} is taken`);
      this.prefixes = [...this.prefixes, route].sort((a, b) => b.path.length - a.path.length);
      return () => {
        this.prefixes = this.prefixes.filter((r) => r !== route);
      };
    }
    if (this.exact.has(route.path)) throw new Error(`HTTP route ${route.path} is taken`);
    this.exact.set(route.path, route);
    return () => {
      if (this.exact.get(route.path) === route) this.exact.delete(route.path);
    };
  }

  /** Mounts an Upgrade handler; returns the function that removes it. */
  addUpgrade(route: UpgradeRoute): () => void {
    if (this.upgrades.has(route.path)) throw new Error(`HTTP upgrade route ${route.path} is taken`);
    this.upgrades.set(route.path, route);
    return () => {
      if (this.upgrades.get(route.path) === route) this.upgrades.delete(route.path);
    };
  }

  /** The route for a path: an exact match, else the longest matching prefix. */
  match(path: string): { route: HttpRoute; subpath: string } | undefined {
    const exact = this.exact.get(path);
    if (exact) return { route: exact, subpath: "" };
    for (const route of this.prefixes) {
      if (path.startsWith(route.path)) return { route, subpath: path.slice(route.path.length) };
    }
    return undefined;
  }

  matchUpgrade(path: string): UpgradeRoute | undefined {
    return this.upgrades.get(path);
  }

  /** Mounted paths, for `/status` and the startup banner. */
  get paths(): string[] {
    return [...this.exact.keys(), ...this.prefixes.map((r) => r.path), ...this.upgrades.keys()];
  }
}
