/** What a scenario needs from the server under test. */
export interface PeerConfig {
  /** Accounts `${prefix}1` .. `${prefix}${users}` all get `password`. */
  users: number;
  prefix: string;
  password: string;
  domain: string;
  /** Message archive (XEP-0313) on for every account (chat+mam), or not loaded at all. */
  mam: boolean;
  /** Load multi-user chat (XEP-0045) on `conference.<domain>`. */
  muc: boolean;
  /**
   * Pre-provision symmetric rosters of this many contacts with subscription "both" (0 = none): user i has the
   * rosterSize users around it (i±1, i±2, ...), wrapping around.
   */
  rosterSize: number;
  /** A private directory for config, data and logs; the peer creates what it needs inside. */
  workDir: string;
  /** PEM certificate and key for `domain`. */
  certFile: string;
  keyFile: string;
  /** The SASL mechanism the bench will ask for: a peer that can offer it should (ejabberd: SCRAM-SHA-256). */
  sasl: string;
  /** Extra command-line arguments for the server (Hearth only; e.g. an archive switch). */
  extraArgs: string[];
  /** Extra Node.js options for the server (Hearth only; e.g. `--cpu-prof --cpu-prof-dir=DIR`). */
  nodeArgs: string[];
  log: (line: string) => void;
}

/** A started server: where to connect and which process tree to measure. */
export interface RunningPeer {
  name: string;
  version: string;
  host: string;
  port: number;
  domain: string;
  mucDomain: string | undefined;
  /** Root of the server's process tree (RSS and CPU are summed over it). */
  pid: number;
  /** Whether rosters of `rosterSize` contacts were provisioned server-side. */
  rostersProvisioned: boolean;
  /** Seconds spent creating accounts (informative). */
  setupSeconds: number;
  /** Notes for the report (SASL offer, storage, deviations). */
  notes: string[];
  stop(): Promise<void>;
}

/** A server the bench can start and stop. */
export interface Peer {
  readonly name: string;
  start(cfg: PeerConfig): Promise<RunningPeer>;
}

/**
 * Contacts of user `i` (1-based) in a ring of `users` with `size` contacts: i±1, i±2, ..., wrapping around. The
 * relation is symmetric (k is i's contact iff i is k's) when `size` is even or at least `users - 1`.
 */
export function rosterOf(i: number, users: number, size: number): number[] {
  const n = Math.min(size, users - 1);
  const out: number[] = [];
  for (let k = 1; out.length < n; k++) {
    out.push(((i - 1 + k) % users) + 1);
    if (out.length < n) out.push(((i - 1 - k + users * 2) % users) + 1);
  }
  return out;
}
