import type { Server as NetServer } from "node:net";

/** Binds a net/tls server on every interface; resolves with the port actually bound (0 → ephemeral). */
export async function listenAll(
  make: () => NetServer,
  interfaces: string[],
  port: number,
): Promise<{ servers: NetServer[]; port: number; addresses: string[] }> {
  const servers: NetServer[] = [];
  const addresses: string[] = [];
  let bound = port;
  for (const iface of interfaces) {
    const srv = make();
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      // With port 0 on several interfaces, the first bind picks the port and the rest reuse it.
      srv.listen({ host: iface, port: bound, backlog: 1024 }, () => {
        srv.off("error", reject);
        resolve();
      });
    });
    const addr = srv.address();
    if (addr && typeof addr === "object") {
      bound = addr.port;
      addresses.push(addr.address);
    }
    servers.push(srv);
  }
  return { servers, port: bound, addresses };
}

export function closeAll(servers: NetServer[]): Promise<void> {
  return Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
}
