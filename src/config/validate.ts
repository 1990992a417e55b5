import { isIP, isIPv6 } from "node:net";
import { normalizeDomain, parseJid } from "../jid/jid.ts";
import { parseDuration } from "./duration.ts";
import { ConfigError } from "./errors.ts";
import type { HearthConfig } from "./types.ts";

/**
 * Normalizes a configured domain: IDNA/lowercase via the JID rules (RFC 7622 §3.2), and a bare IPv6 literal
 * gets the brackets a JID domainpart needs (`::1` → `[::1]`), so users may write it either way.
 */
export function normalizeHost(host: string): string {
  const trimmed = host.trim();
  return normalizeDomain(isIPv6(trimmed) ? `[${trimmed}]` : trimmed);
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function checkDomain(value: string, key: string): string {
  if (value.trim() === "") throw new ConfigError(`${key}: empty domain`);
  try {
    return normalizeHost(value);
  } catch (e) {
    throw new ConfigError(`${key}: "${value}" is not a valid domain (${reason(e)})`);
  }
}

// RFC 3986 §3.1 scheme, then anything: xmpp:, mailto:, https: addresses for XEP-0157.
const URI = /^[a-z][a-z0-9+.-]*:\S+$/i;

/**
 * Checks what the schema cannot (domains, JIDs, secrets, port clashes) and normalizes domains and JIDs in
 * place. Returns warnings the server must print prominently; throws ConfigError on the first real problem.
 */
export function validateConfig(config: HearthConfig): string[] {
  const warnings: string[] = [];

  if (config.hosts.length === 0) throw new ConfigError("hosts: at least one host is required");
  const hosts = config.hosts.map((h) => checkDomain(h, "hosts"));
  const dup = hosts.find((h, i) => hosts.indexOf(h) !== i);
  if (dup) throw new ConfigError(`hosts: "${dup}" is listed twice`);
  config.hosts = hosts;

  config.admins = config.admins.map((admin) => {
    let jid: ReturnType<typeof parseJid>;
    try {
      jid = parseJid(admin);
    } catch (e) {
      throw new ConfigError(`admins: "${admin}" is not a valid JID (${reason(e)})`);
    }
    if (!jid.local || jid.resource) throw new ConfigError(`admins: "${admin}" must be a bare JID like user@host`);
    return `${jid.local}@${jid.domain}`;
  });

  const components: HearthConfig["components"] = {};
  for (const [domain, component] of Object.entries(config.components)) {
    const normalized = checkDomain(domain, "components");
    if (hosts.includes(normalized)) {
      throw new ConfigError(`components."${domain}": a component cannot use a domain that is also in hosts`);
    }
    if (components[normalized]) throw new ConfigError(`components: "${domain}" is listed twice`);
    if (component.secret === "") throw new ConfigError(`components."${domain}".secret must be set (non-empty)`);
    components[normalized] = { ...component };
  }
  config.components = components;

  // The MUC service of each host is <muc.domain_prefix>.<host>: a valid domain that nothing else uses. IP literal
  // hosts have no subdomains, hence no chat service.
  if (!config.disabled_modules.includes("muc")) {
    for (const host of hosts) {
      if (isIP(host.replace(/^\[|\]$/g, ""))) continue;
      const service = checkDomain(`${config.muc.domain_prefix}.${host}`, "muc.domain_prefix");
      if (hosts.includes(service) || components[service]) {
        throw new ConfigError(`muc.domain_prefix: the chat service ${service} would clash with a host or component`);
      }
    }
  }

  // The upload service of each host is <upload.domain_prefix>.<host>, like the MUC service (none for IP literals).
  if (config.upload.enabled && !config.disabled_modules.includes("upload")) {
    for (const host of hosts) {
      if (isIP(host.replace(/^\[|\]$/g, ""))) continue;
      const service = checkDomain(`${config.upload.domain_prefix}.${host}`, "upload.domain_prefix");
      const muc = config.disabled_modules.includes("muc") ? "" : `${config.muc.domain_prefix}.${host}`;
      if (hosts.includes(service) || components[service] || service === muc) {
        throw new ConfigError(
          `upload.domain_prefix: the upload service ${service} would clash with a host, component or the MUC service`,
        );
      }
    }
  }
  for (const type of config.upload.allowed_types) {
    if (!/^[a-z0-9!#$&^_.+-]+\/(\*|[a-z0-9!#$&^_.+-]+)$/i.test(type)) {
      throw new ConfigError(`upload.allowed_types: "${type}" must be a content type like image/png or image/*`);
    }
  }

  for (const [kind, addresses] of Object.entries(config.contact)) {
    for (const address of addresses as string[]) {
      if (!URI.test(address)) {
        throw new ConfigError(`contact.${kind}: "${address}" must be a URI such as mailto:… or xmpp:…`);
      }
    }
  }

  if ((config.tls.cert === "") !== (config.tls.key === "")) {
    throw new ConfigError(
      "tls.cert and tls.key must be set together (or both left empty for a self-signed certificate)",
    );
  }
  if (config.data_dir === "") throw new ConfigError("data_dir must not be empty");
  if (config.storage.sqlite_file === "") throw new ConfigError("storage.sqlite_file must not be empty");
  if (config.http.external_url !== "" && !/^https?:\/\/[^\s/]+/.test(config.http.external_url)) {
    throw new ConfigError(`http.external_url: "${config.http.external_url}" must be an http:// or https:// URL`);
  }

  for (const key of ["trusted_proxies", "status_allow"] as const) {
    for (const entry of config.http[key]) {
      if (!isAddressOrNetwork(entry)) {
        throw new ConfigError(`http.${key}: "${entry}" must be an IP address or a CIDR network like 10.0.0.0/8`);
      }
    }
  }

  checkListeners(config);
  checkAccounts(config);

  if (!config.c2s.require_encryption) {
    warnings.push(
      "c2s.require_encryption is OFF: clients may log in and chat without TLS, so passwords and messages can cross " +
        "the network in clear text. Only do this on a trusted network.",
    );
  }
  if (config.c2s.port === -1 && config.c2s.tls_port === -1) {
    warnings.push("both c2s.port and c2s.tls_port are -1: no client can connect");
  }
  return warnings;
}

/** `192.0.2.1`, `2001:db8::1`, `10.0.0.0/8` or `fd00::/8`. */
function isAddressOrNetwork(entry: string): boolean {
  const [address = "", bits, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128);
}

/** Longest an invitation may be valid: a year. */
const MAX_INVITE_EXPIRY = 365 * 86400;

// `host` or `host:port`; IPv6 literals in brackets (`[2001:db8::1]:3478`).
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[^\s:/[\]]+)(:\d{1,5})?$/i;

/** Registration, invitations and the STUN/TURN servers offered to clients (XEP-0215). */
function checkAccounts(config: HearthConfig): void {
  const expiry = parseDuration(config.invites.default_expiry);
  if (expiry === null || expiry > MAX_INVITE_EXPIRY) {
    throw new ConfigError(
      `invites.default_expiry: "${config.invites.default_expiry}" must be a duration like "7d", "12h" or "30m", at most 365d`,
    );
  }
  const turn = config.turn;
  if ((turn.secret === "") !== (turn.host.trim() === "")) {
    throw new ConfigError("turn.secret and turn.host must be set together (or both left empty: no TURN server)");
  }
  if (turn.host !== "" && !HOST_PORT.test(turn.host)) {
    throw new ConfigError(`turn.host: "${turn.host}" must be a host name or IP address, without a port`);
  }
  if (turn.host.includes(":") && !turn.host.startsWith("[")) {
    throw new ConfigError(`turn.host: "${turn.host}" must not include a port (set turn.port)`);
  }
  if (turn.transports.length === 0 || turn.transports.some((t) => t !== "udp" && t !== "tcp")) {
    throw new ConfigError(`turn.transports must list "udp" and/or "tcp"`);
  }
  if (turn.tls_port === 0) throw new ConfigError("turn.tls_port must be a port number, or -1 for no TURN over TLS");
  for (const server of turn.stun) {
    const m = HOST_PORT.exec(server.trim());
    if (!m || (m[2] !== undefined && (Number(m[2].slice(1)) < 1 || Number(m[2].slice(1)) > 65535))) {
      throw new ConfigError(`turn.stun: "${server}" must be host or host:port, e.g. stun.example.org:3478`);
    }
  }
}

function checkListeners(config: HearthConfig): void {
  const listeners: [string, number, string[]][] = [
    ["c2s.port", config.c2s.port, config.c2s.interfaces],
    ["c2s.tls_port", config.c2s.tls_port, config.c2s.interfaces],
    ["http.port", config.http.port, config.http.interfaces],
    ["http.tls_port", config.http.tls_port, config.http.interfaces],
    ["component_listener.port", config.component_listener.port, config.component_listener.interfaces],
  ];
  const seen = new Map<number, string>();
  for (const [key, port, interfaces] of listeners) {
    if (port === -1) continue;
    const section = key.slice(0, key.indexOf("."));
    if (interfaces.length === 0) {
      throw new ConfigError(`${section}.interfaces is empty; set ${key} = -1 to disable the listener instead`);
    }
    if (interfaces.some((i) => i.trim() === "")) throw new ConfigError(`${section}.interfaces: empty address`);
    // 0 asks the OS for a free port, so several listeners may use it.
    if (port === 0) continue;
    const other = seen.get(port);
    if (other) throw new ConfigError(`${key} and ${other} are both ${port}; each listener needs its own port`);
    seen.set(port, key);
  }
}
