import { createServer, type Server as NetServer } from "node:net";
import { TcpTransport } from "../c2s/tcp-transport.ts";
import { closeAll, listenAll } from "../core/listen.ts";
import type { Listener, ListenerInfo, Server } from "../core/server.ts";
import { NS } from "../xmpp/ns.ts";
import { ComponentStream } from "./stream.ts";

/**
 * The XEP-0114 listener. It only runs when components are configured; their domains are registered
 * with the router right away so stanzas to an offline component bounce instead of going to s2s.
 */
export async function startComponentListener(server: Server): Promise<Listener> {
  const cfg = server.config.component_listener;
  const domains = Object.keys(server.config.components);
  for (const d of domains) server.router.componentDomains.add(d);
  if (domains.length === 0 || cfg.port < 0) return { info: [], close: async () => {} };

  const limits = { maxStanzaBytes: server.config.c2s.stanza_size_limit, maxDepth: server.config.c2s.max_depth };
  const r = await listenAll(
    () =>
      createServer((socket) => {
        const transport = new TcpTransport(socket, { limits, tls: null, namespace: NS.componentAccept });
        transport.attach(new ComponentStream(server, transport));
      }),
    cfg.interfaces,
    cfg.port,
  );
  const servers: NetServer[] = r.servers;
  const info: ListenerInfo[] = r.addresses.map((address) => ({
    name: "component",
    address,
    port: r.port,
    tls: "none",
  }));
  return { info, close: () => closeAll(servers) };
}
