import { createServer, type Server as NetServer, type Socket } from "node:net";
import { createSecureContext, createServer as createTlsServer, type SecureContext, type TLSSocket } from "node:tls";
import { StreamError } from "../core/errors.ts";
import { closeAll, listenAll } from "../core/listen.ts";
import type { Listener, ListenerInfo, Server } from "../core/server.ts";
import { streamErrorElement } from "../core/stanza.ts";
import { NS } from "../xmpp/ns.ts";
import { serverEndPointHash } from "./channel-binding.ts";
import { C2sStream } from "./stream.ts";
import { TcpTransport } from "./tcp-transport.ts";

/**
 * Client-to-server listeners: STARTTLS on `c2s.port` and direct TLS (XEP-0368) on `c2s.tls_port`.
 * Every accepted socket becomes a C2sStream over a TcpTransport.
 */
export async function startC2sListeners(server: Server): Promise<Listener> {
  const cfg = server.config.c2s;
  const limits = { maxStanzaBytes: cfg.stanza_size_limit, maxDepth: cfg.max_depth };
  const throttle = server.authThrottle;
  let context: SecureContext | null = null;
  let serverEndPoint: Buffer | null = null;
  if (server.tls) {
    context = createSecureContext({ cert: server.tls.cert, key: server.tls.key, minVersion: "TLSv1.2" });
    serverEndPoint = serverEndPointHash(server.tls.cert);
  }
  const tlsInfo = context ? { context, serverEndPoint } : null;

  const accept = (socket: Socket, direct: boolean) => {
    if (server.isStopping || server.connections.size >= cfg.max_connections) {
      refuse(socket, server.isStopping ? "system-shutdown" : "resource-constraint");
      return;
    }
    const transport = new TcpTransport(socket, {
      limits,
      tls: direct ? null : tlsInfo,
      serverEndPoint: direct ? serverEndPoint : null,
      namespace: NS.client,
    });
    transport.attach(new C2sStream(server, transport, throttle));
  };

  const servers: NetServer[] = [];
  const info: ListenerInfo[] = [];
  if (cfg.port >= 0) {
    const r = await listenAll(() => createServer((s) => accept(s, false)), cfg.interfaces, cfg.port);
    servers.push(...r.servers);
    for (const a of r.addresses)
      info.push({ name: "c2s", address: a, port: r.port, tls: context ? "starttls" : "none" });
  }
  if (cfg.tls_port >= 0 && context) {
    const { cert, key } = server.tls as { cert: string; key: string };
    const r = await listenAll(
      () =>
        createTlsServer({ cert, key, minVersion: "TLSv1.2", ALPNProtocols: ["xmpp-client"] }, (s: TLSSocket) =>
          accept(s, true),
        ).on("tlsClientError", () => {}),
      cfg.interfaces,
      cfg.tls_port,
    );
    servers.push(...r.servers);
    for (const a of r.addresses) info.push({ name: "c2s-direct-tls", address: a, port: r.port, tls: "direct" });
  }
  return { info, close: () => closeAll(servers) };
}

/** Answers a connection we cannot take with a stream error, so the client knows why (RFC 6120 §4.9). */
function refuse(socket: Socket, condition: "resource-constraint" | "system-shutdown"): void {
  const err = streamErrorElement(new StreamError(condition));
  socket.end(
    `<?xml version='1.0'?><stream:stream xmlns='${NS.client}' xmlns:stream='${NS.stream}' version='1.0'>${err}</stream:stream>`,
  );
  socket.on("error", () => {});
  setTimeout(() => socket.destroy(), 2000).unref();
}
