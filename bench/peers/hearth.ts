import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitForPort } from "../lib/ports.ts";
import { run, startServer } from "./process.ts";
import type { Peer, PeerConfig, RunningPeer } from "./types.ts";

/** The Hearth checkout to run: this repository, unless HEARTH_ROOT points elsewhere. */
export function hearthRoot(): string {
  return process.env.HEARTH_ROOT ?? resolve(fileURLToPath(import.meta.url), "../../..");
}

/**
 * Hearth from source through tsx (docs/cli.md): `import-users FILE` (one `user:password` per line), `cert use` with
 * the run's certificate, then `start --c2s-port P` with every other listener off. Archive on/off, rosters and MUC
 * have no CLI switch yet: pass them with `--hearth-args` (PeerConfig.extraArgs) once they exist.
 */
export const hearth: Peer = {
  name: "hearth",
  async start(cfg: PeerConfig): Promise<RunningPeer> {
    const root = hearthRoot();
    const main = join(root, "src", "cli", "main.ts");
    const dir = join(cfg.workDir, "hearth");
    const dataDir = join(dir, "data");
    mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    const users = join(dir, "users.txt");
    const lines: string[] = [];
    for (let i = 1; i <= cfg.users; i++) lines.push(`${cfg.prefix}${i}:${cfg.password}`);
    writeFileSync(users, lines.join("\n") + "\n");

    const node = process.execPath;
    const t0 = Date.now();
    const cli = (...args: string[]) =>
      run(node, ["--import", "tsx", main, ...args, "--data-dir", dataDir, "--domain", cfg.domain], { cwd: root });
    cli("import-users", users);
    // The same certificate as the other servers, so TLS costs the same (docs/cli.md: `hearth cert use`).
    cli("cert", "use", "--cert", cfg.certFile, "--key", cfg.keyFile);
    const setupSeconds = (Date.now() - t0) / 1000;
    const args = [
      ...cfg.nodeArgs,
      "--import",
      "tsx",
      main,
      "start",
      "--domain",
      cfg.domain,
      "--data-dir",
      dataDir,
      "--c2s-port",
      String(port),
      "--c2s-tls-port",
      "-1",
      "--http-port",
      "-1",
      "--http-tls-port",
      "-1",
      "--component-port",
      "-1",
      "--log-level",
      "warn",
      ...cfg.extraArgs,
    ];
    const proc = startServer(node, args, { cwd: root, logFile: join(dir, "stdout.log") });
    try {
      await waitForPort("127.0.0.1", port, 30_000, () => !proc.exited);
    } catch (err) {
      await proc.stop();
      throw err;
    }
    const notes = ["node " + process.version];
    if (cfg.mam) notes.push("archive switch not wired yet: pass it with --hearth-args");
    return {
      name: "hearth",
      version: "main",
      host: "127.0.0.1",
      port,
      domain: cfg.domain,
      mucDomain: undefined, // no MUC in Hearth yet: set `conference.${cfg.domain}` when it has one
      pid: proc.pid,
      rostersProvisioned: false,
      setupSeconds,
      notes,
      stop: () => proc.stop(),
    };
  },
};
