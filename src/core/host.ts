import type { Jid } from "../jid/jid.ts";
import type { XmlElement } from "../xml/element.ts";
import type { StreamError } from "./errors.ts";
import { EventBus } from "./events.ts";
import type { C2sSession, CloseInfo, Session } from "./session.ts";

/** Where a stanza is addressed relative to its host (RFC 6121 §8.5: domain, bare or full JID). */
export type Destination = "host" | "bare" | "full";

/** The payload of every stanza event. */
export interface StanzaEvent {
  stanza: XmlElement;
  /** The session the stanza came from, or null when the server itself generated it. */
  origin: Session | null;
  /** Sender, validated and stamped by the router. */
  from: Jid;
  /** Addressee, normalized. For stanzas sent without `to` by a client, the router fills in the rule of RFC 6120 §10.3. */
  to: Jid;
  host: Host;
}

/** Payload of the pre-routing events fired for stanzas a local client sends. */
export interface OutgoingEvent {
  stanza: XmlElement;
  session: C2sSession;
  from: Jid;
  /** Null when the stanza has no `to` (e.g. broadcast presence). */
  to: Jid | null;
}

/**
 * Events fired on a host's bus. Stanza events are named like Prosody's: `<kind>/<destination>`, and
 * `iq-<type>/<destination>/<payload namespace>` for iq get/set.
 */
export interface HostEvents {
  /**
   * Every stanza addressed to this host, one of its accounts or resources, before the events below (a filter:
   * blocking, XEP-0191). A handler that returns true stops the stanza; one that throws a StanzaError bounces it.
   */
  "stanza/in": StanzaEvent;
  "message/host": StanzaEvent;
  "message/bare": StanzaEvent;
  "message/full": StanzaEvent;
  "presence/host": StanzaEvent;
  "presence/bare": StanzaEvent;
  "presence/full": StanzaEvent;
  "iq/host": StanzaEvent;
  "iq/bare": StanzaEvent;
  "iq/full": StanzaEvent;
  [iq: `iq-get/${string}`]: StanzaEvent;
  [iq: `iq-set/${string}`]: StanzaEvent;
  /** A stanza from a local client, before routing (blocking, carbons, presence broadcast hook here). */
  "pre-message": OutgoingEvent;
  "pre-presence": OutgoingEvent;
  "pre-iq": OutgoingEvent;
  /** A client session finished binding a resource. */
  "c2s.session.bound": { session: C2sSession };
  /** A bound client session ended (after it was unbound). */
  "c2s.session.closed": { session: C2sSession; info: CloseInfo };
  /** An account of this host was deleted; modules remove their data. */
  "account.deleted": { username: string };
}

/** A disco identity (XEP-0030 §3.1). */
export interface DiscoIdentity {
  category: string;
  type: string;
  name?: string;
}

/** A disco item (XEP-0030 §4.1). */
export interface DiscoItem {
  jid: string;
  node?: string;
  name?: string;
}

/**
 * What a host says about itself in service discovery. Modules add to it when they load, so disco
 * lists exactly what is running.
 */
export class DiscoRegistry {
  readonly identities: DiscoIdentity[] = [];
  readonly features = new Set<string>();
  /** XEP-0128 extended info forms. */
  readonly extensions: XmlElement[] = [];
  readonly items: DiscoItem[] = [];
  /** Features a user's bare JID answers for (XEP-0030 on accounts), from modules acting for accounts. */
  readonly accountFeatures = new Set<string>();
}

/** A stream feature offered to clients, produced per session at the right stage. */
export interface StreamFeature {
  /** `pre-auth` features appear before SASL (after TLS), `post-auth` ones after authentication. */
  stage: "pre-auth" | "post-auth";
  /** Returns the feature element, or null to not offer it on this connection. */
  element(info: { secure: boolean; session: C2sSession | null }): XmlElement | null;
}

/** Handler for a non-stanza top-level element from a client (e.g. `<enable xmlns='urn:xmpp:sm:3'/>`). */
export type StreamElementHandler = (el: XmlElement, session: C2sSession) => void | Promise<void>;

/** A client connection that has not authenticated yet, as pre-authentication handlers see it. */
export interface PreAuthConnection {
  /** Stable for the connection's life: modules key per-connection state (e.g. a WeakMap) on this object. */
  readonly id: string;
  readonly secure: boolean;
  readonly remoteAddress: string;
  /** Writes a stanza to the client (there is no routing before authentication). */
  send(stanza: XmlElement): void;
}

/**
 * Answers an iq a client sends before authenticating (XEP-0077 in-band registration, XEP-0445 invitation
 * tokens), chosen by the namespace of its payload. It replies through `conn.send`; a thrown StanzaError is
 * sent back as the error reply. Only called on connections where SASL is offered (after TLS when required).
 */
export type PreAuthIqHandler = (iq: XmlElement, conn: PreAuthConnection) => void | Promise<void>;

/** A domain served by this server: a user host (accounts live here) or a service host (MUC, upload). */
export class Host {
  readonly events = new EventBus<HostEvents>();
  readonly disco = new DiscoRegistry();
  readonly streamFeatures: StreamFeature[] = [];
  /** Top-level stream elements handled by modules, keyed by `namespace element-name`. */
  readonly streamElements = new Map<string, StreamElementHandler>();
  /** Handlers of iq stanzas before authentication, keyed by payload namespace. */
  readonly preAuthIq = new Map<string, PreAuthIqHandler>();
  /** Loaded module names, in load order. */
  readonly modules: string[] = [];
  private readonly stopHooks: (() => void | Promise<void>)[] = [];

  constructor(
    readonly name: string,
    readonly kind: "user" | "service",
  ) {}

  onStop(fn: () => void | Promise<void>): void {
    this.stopHooks.push(fn);
  }

  async stop(): Promise<void> {
    for (const fn of this.stopHooks.splice(0).reverse()) await fn();
  }
}

/** A way to reach domains that are not ours (s2s). Federation plugs in here. */
export interface RemoteRoute {
  /** Sends a stanza towards a remote domain. Rejects with a StanzaError if it cannot. */
  send(stanza: XmlElement, to: Jid): Promise<void>;
}

export type { StreamError };
