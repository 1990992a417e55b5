/**
 * Who may see a node (XEP-0060 §4.5 access models, XEP-0163 §4.2 presence default): the owner always, outcasts
 * never, members of the node always, and everyone else as the access model says.
 */
import type { Jid } from "../../jid/jid.ts";
import type { PubsubNode } from "../../storage/pubsub.ts";
import type { RosterItem } from "../../storage/types.ts";
import type { RosterService } from "../im/roster-service.ts";
import { settingsOf } from "./config.ts";
import type { PubsubError } from "./errors.ts";
import { pubsubErrors } from "./errors.ts";

/**
 * Checks access to the nodes of one account, looking each roster item up at most once (a notification fan-out asks
 * about the same contact for every resource).
 */
export class AccessChecker {
  private readonly items = new Map<string, Promise<RosterItem | null>>();

  constructor(
    private readonly roster: RosterService | undefined,
    /** The account's username and bare JID. */
    private readonly username: string,
    private readonly owner: string,
  ) {}

  /** Null when `requester` may retrieve items of `node`, else the error to answer with. */
  async denial(node: PubsubNode, requester: Jid | string): Promise<PubsubError | null> {
    const bare = typeof requester === "string" ? bareOf(requester) : requester.bareString;
    if (bare === this.owner) return null;
    const affiliation = node.affiliations[bare];
    if (affiliation === "outcast") return pubsubErrors.outcast();
    if (affiliation === "member" || affiliation === "publisher") return null;
    const settings = settingsOf(node.config);
    switch (settings.accessModel) {
      case "open":
        return null;
      case "presence": {
        const item = await this.item(bare);
        const sub = item?.subscription;
        return sub === "from" || sub === "both" ? null : pubsubErrors.presenceRequired();
      }
      case "roster": {
        const item = await this.item(bare);
        const allowed = new Set(settings.rosterGroups);
        return item?.groups.some((g) => allowed.has(g)) ? null : pubsubErrors.notInRosterGroup();
      }
      default:
        return pubsubErrors.closedNode();
    }
  }

  async allowed(node: PubsubNode, requester: Jid | string): Promise<boolean> {
    return (await this.denial(node, requester)) === null;
  }

  private item(bare: string): Promise<RosterItem | null> {
    let p = this.items.get(bare);
    if (!p) {
      p = this.roster ? this.roster.getItem(this.username, bare) : Promise.resolve(null);
      this.items.set(bare, p);
    }
    return p;
  }
}

/** The bare part of a JID string that is already normalized. */
export function bareOf(jid: string): string {
  const slash = jid.indexOf("/");
  return slash < 0 ? jid : jid.slice(0, slash);
}
