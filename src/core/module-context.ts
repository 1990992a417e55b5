import { type Jid, parseJid } from "../jid/jid.ts";
import type { Logger } from "../log.ts";
import type { XmlElement } from "../xml/element.ts";
import { StanzaError } from "./errors.ts";
import type { EventHandler } from "./events.ts";
import type {
  Destination,
  DiscoIdentity,
  Host,
  HostEvents,
  PreAuthIqHandler,
  StreamElementHandler,
  StreamFeature,
} from "./host.ts";
import type { HostServices, IqHandler, ModuleContext, ModuleDefinition } from "./module.ts";
import type { Server } from "./server.ts";
import { iqResult } from "./stanza.ts";

/** Per-host registry of module APIs. */
export class ServiceRegistry {
  private readonly apis = new Map<string, unknown>();
  set(name: string, api: unknown): void {
    if (this.apis.has(name)) throw new Error(`service ${name} is already provided`);
    this.apis.set(name, api);
  }
  get(name: string): unknown {
    return this.apis.get(name);
  }
}

/** The ModuleContext a module gets for one host. Everything it registers is undone when the host stops. */
export class HostModuleContext implements ModuleContext {
  readonly log: Logger;
  readonly jid: Jid;

  constructor(
    readonly server: Server,
    readonly host: Host,
    private readonly services: ServiceRegistry,
    module: ModuleDefinition,
  ) {
    this.log = server.log.child({ host: host.name, module: module.name });
    this.jid = parseJid(host.name);
  }

  get config() {
    return this.server.config;
  }
  get storage() {
    return this.server.storage;
  }
  get sessions() {
    return this.server.sessions;
  }

  on<K extends keyof HostEvents & string>(name: K, handler: EventHandler<HostEvents[K]>, priority = 0): void {
    this.host.onStop(this.host.events.on(name, handler, priority));
  }

  iq(type: "get" | "set", xmlns: string, handler: IqHandler, to: Destination | "any" = "host"): void {
    const dests: Destination[] = to === "any" ? ["host", "bare", "full"] : [to];
    for (const dest of dests) {
      this.on(`iq-${type}/${dest}/${xmlns}` as `iq-get/${string}`, async (ev) => {
        let payload: XmlElement | null;
        try {
          payload = await handler(ev);
        } catch (err) {
          if (err instanceof StanzaError) throw err;
          this.log.error({ err, stanza: ev.stanza.toString() }, "iq handler failed");
          throw new StanzaError("cancel", "internal-server-error");
        }
        await this.server.router.route(iqResult(ev.stanza, payload), null);
        return true;
      });
    }
  }

  feature(ns: string): void {
    this.host.disco.features.add(ns);
  }
  accountFeature(ns: string): void {
    this.host.disco.accountFeatures.add(ns);
  }
  identity(identity: DiscoIdentity): void {
    this.host.disco.identities.push(identity);
  }
  discoExtension(form: XmlElement): void {
    this.host.disco.extensions.push(form);
  }
  streamFeature(feature: StreamFeature): void {
    this.host.streamFeatures.push(feature);
  }
  streamElement(xmlns: string, name: string, handler: StreamElementHandler): void {
    const key = `${xmlns} ${name}`;
    if (this.host.streamElements.has(key)) throw new Error(`stream element ${key} already handled`);
    this.host.streamElements.set(key, handler);
    this.host.onStop(() => {
      this.host.streamElements.delete(key);
    });
  }

  preAuthIq(xmlns: string, handler: PreAuthIqHandler): void {
    if (this.host.preAuthIq.has(xmlns)) throw new Error(`pre-authentication iq ${xmlns} already handled`);
    this.host.preAuthIq.set(xmlns, handler);
    this.host.onStop(() => {
      this.host.preAuthIq.delete(xmlns);
    });
  }

  provide<K extends keyof HostServices>(name: K, api: HostServices[K]): void {
    this.services.set(name as string, api);
  }
  service<K extends keyof HostServices>(name: K): HostServices[K] | undefined {
    return this.services.get(name as string) as HostServices[K] | undefined;
  }

  send(stanza: XmlElement): Promise<void> {
    return this.server.router.route(stanza, null);
  }

  onStop(fn: () => void | Promise<void>): void {
    this.host.onStop(fn);
  }
}
