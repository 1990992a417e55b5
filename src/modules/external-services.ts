import { createHmac } from "node:crypto";
import type { TurnConfig } from "../config/types.ts";
import { StanzaError } from "../core/errors.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";

/** Time-limited TURN credentials (draft-uberti-behave-turn-rest-00 §2.2). */
export interface TurnCredentials {
  username: string;
  password: string;
  /** Milliseconds since the epoch. */
  expires: number;
}

/**
 * The TURN REST scheme coturn implements with `use-auth-secret`: the username is the expiry time (Unix seconds)
 * and the user's name joined by a colon, the password is base64(HMAC-SHA1(shared secret, username)). The TURN
 * server recomputes the password from the username alone and refuses it once the time has passed.
 */
export function turnCredentials(secret: string, user: string, ttlSeconds: number, now = Date.now()): TurnCredentials {
  const expiry = Math.floor(now / 1000) + ttlSeconds;
  const username = `${expiry}:${user}`;
  const password = createHmac("sha1", secret).update(username).digest("base64");
  return { username, password, expires: expiry * 1000 };
}

/** One service of XEP-0215 §3 before credentials are added. */
interface Service {
  type: "stun" | "turn" | "turns";
  host: string;
  port: number;
  transport: "udp" | "tcp";
}

/** Splits `host`, `host:port` or `[v6]:port`; STUN's default port is 3478 (RFC 8489 §9). */
function hostPort(entry: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.trim());
  return { host: (m?.[1] ?? entry).replace(/^\[|\]$/g, ""), port: m?.[2] ? Number(m[2]) : 3478 };
}

/** The services the configuration describes: extra STUN servers, and STUN/TURN/TURNS on the TURN host. */
export function configuredServices(turn: TurnConfig): Service[] {
  const out: Service[] = [];
  for (const entry of turn.stun) out.push({ type: "stun", ...hostPort(entry), transport: "udp" });
  if (turn.host !== "" && turn.secret !== "") {
    const host = turn.host.replace(/^\[|\]$/g, "");
    // A TURN server answers STUN binding requests too (RFC 8656 §1), so clients need no other STUN server.
    out.push({ type: "stun", host, port: turn.port, transport: "udp" });
    for (const transport of turn.transports as ("udp" | "tcp")[])
      out.push({ type: "turn", host, port: turn.port, transport });
    if (turn.tls_port > 0) out.push({ type: "turns", host, port: turn.tls_port, transport: "tcp" });
  }
  return out;
}

/** XEP-0082 DateTime without milliseconds. */
function dateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * XEP-0215 External Service Discovery: the STUN and TURN servers clients use for calls (Jingle media stays
 * between the clients; the server only tells them where the relays are). TURN entries carry fresh
 * credentials for the requesting user, computed from the secret shared with the TURN server.
 */
export const externalServicesModule: ModuleDefinition = {
  name: "external-services",
  specs: [{ spec: "XEP-0215", version: "1.0.0", note: "STUN/TURN with TURN REST credentials" }],
  load(ctx) {
    const turn = ctx.config.turn;
    const host = ctx.host.name;
    const services = configuredServices(turn);
    // Disco lists only what works: nothing configured, nothing offered.
    if (services.length === 0) return;
    ctx.feature(NS.extdisco);

    const element = (s: Service, user: string, now: number): XmlElement => {
      const el = xml("service", { type: s.type, host: s.host, port: String(s.port), transport: s.transport });
      if (s.type !== "stun") {
        const c = turnCredentials(turn.secret, user, turn.ttl, now);
        el.attrs.username = c.username;
        el.attrs.password = c.password;
        el.attrs.expires = dateTime(c.expires);
        // §4: credentials are required for this service (and were included here).
        el.attrs.restricted = "1";
      }
      return el;
    };

    ctx.iq("get", NS.extdisco, (ev) => {
      // Relays cost bandwidth: only this host's own users get them (and their credentials).
      if (ev.from.domain !== host || ev.from.local === "") throw new StanzaError("auth", "forbidden");
      const query = ev.stanza.firstElement() as XmlElement;
      const user = ev.from.bareString;
      const now = Date.now();
      if (query.name === "services") {
        // §3.1: an optional type narrows the list.
        const type = query.attrs.type;
        const out = xml("services", { xmlns: NS.extdisco, type });
        for (const s of services) if (type === undefined || s.type === type) out.append(element(s, user, now));
        return out;
      }
      if (query.name === "credentials") {
        // §3.3: credentials for the services named by host (and type, port when given).
        const out = xml("credentials", { xmlns: NS.extdisco });
        for (const want of query.getChildren("service")) {
          for (const s of services) {
            if (s.type === "stun" || s.host !== want.attrs.host) continue;
            if (want.attrs.type !== undefined && want.attrs.type !== s.type) continue;
            if (want.attrs.port !== undefined && want.attrs.port !== String(s.port)) continue;
            out.append(element(s, user, now));
          }
        }
        if (out.elements().length === 0) throw new StanzaError("cancel", "item-not-found");
        return out;
      }
      throw new StanzaError("modify", "bad-request");
    });
  },
};
