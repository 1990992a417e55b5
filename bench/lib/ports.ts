import net from "node:net";
import { sleep } from "./clock.ts";

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it; a small race remains, as always). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once `host:port` accepts a TCP connection; rejects after `timeoutMs` or when `alive()` turns false. */
export async function waitForPort(host: string, port: number, timeoutMs: number, alive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (alive !== undefined && !alive()) throw new Error(`server exited before listening on ${host}:${port}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${host}:${port}`);
    await sleep(100);
  }
}
