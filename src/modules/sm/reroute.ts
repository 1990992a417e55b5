import { StanzaError } from "../../core/errors.ts";
import type { ModuleContext } from "../../core/module.ts";
import type { C2sSession } from "../../core/session.ts";
import { delayElement } from "../../core/stanza.ts";
import type { XmlElement } from "../../xml/element.ts";
import { NS } from "../../xmpp/ns.ts";
import { bareRecipients, type MessageType } from "../message.ts";
import type { Unacked } from "./queue.ts";

const NS_CARBONS = "urn:xmpp:carbons:2";

function messageType(type: string | undefined): MessageType {
  return type === "chat" || type === "error" || type === "groupchat" || type === "headline" ? type : "normal";
}

/** A copy of a message or presence with an XEP-0203 stamp of when it was first sent, unless we stamped it already. */
export function stamped(stanza: XmlElement, host: string, when: number): XmlElement {
  if (stanza.name === "iq") return stanza;
  if (stanza.getChildren("delay", NS.delay).some((d) => d.attrs.from === host)) return stanza;
  return stanza.clone().append(delayElement(host, new Date(when)));
}

/**
 * What happens to the stanzas a client never acknowledged when its session ends for good (XEP-0198 §4: "in the
 * same way as a stanza sent to an unavailable resource", RFC 6121 §8.5.3.2):
 *
 * | stanza                          | goes to                                                               |
 * |---------------------------------|-----------------------------------------------------------------------|
 * | message chat/normal             | the account's other resources by the bare-JID rules (§8.5.2.1.1), else |
 * |                                 | offline storage (§8.5.2.2.1); full storage bounces resource-constraint |
 * | message headline                | other resources, else dropped (§8.5.2.2.1)                            |
 * | message groupchat               | bounced with service-unavailable (§8.5.3.2.1)                         |
 * | message error, carbon copies    | dropped (a carbon's original reached the other devices)               |
 * | iq get/set                      | answered with service-unavailable (§8.5.3.2.2)                        |
 * | iq result/error, presence       | dropped (§8.5.3.2.1: presence to a gone resource)                     |
 *
 * A device that already got a message through carbons is not given it again. Stanzas that go to other resources
 * carry a delay stamp of when they first arrived; offline storage stamps its own (XEP-0160).
 */
export async function rerouteUnacked(ctx: ModuleContext, session: C2sSession, items: Unacked[]): Promise<void> {
  for (const item of items) {
    try {
      await rerouteOne(ctx, session, item);
    } catch (err) {
      ctx.log.error({ err, stanza: item.stanza.toString() }, "could not reroute an unacknowledged stanza");
    }
  }
}

async function rerouteOne(ctx: ModuleContext, session: C2sSession, { stanza, queuedAt }: Unacked): Promise<void> {
  const router = ctx.server.router;
  const type = stanza.attrs.type;
  if (stanza.name === "iq") {
    if (type === "get" || type === "set") await router.bounce(stanza, new StanzaError("cancel", "service-unavailable"));
    return;
  }
  if (stanza.name !== "message") return;
  const mtype = messageType(type);
  if (mtype === "error") return;
  if (mtype === "groupchat") {
    await router.bounce(stanza, new StanzaError("cancel", "service-unavailable"));
    return;
  }
  const account = session.jid.bare;
  if (stanza.attrs.from === account.bareString && stanza.elements().some((el) => el.attrs.xmlns === NS_CARBONS)) return;

  const others = ctx.sessions.resources(account).filter((s) => s !== session);
  const carbons = ctx.service("carbons");
  const haveIt = carbons?.eligible(stanza) ? others.filter((s) => carbons.enabled(s)) : [];
  const targets = bareRecipients(others, mtype).filter((s) => !haveIt.includes(s));
  if (targets.length > 0 || haveIt.length > 0) {
    const copy = stamped(stanza, ctx.host.name, queuedAt);
    targets.forEach((s, i) => {
      s.send(i === 0 ? copy : copy.clone());
    });
    return;
  }
  if (mtype === "headline") return;
  const offline = ctx.service("offline");
  // The account may be going away (account deletion ends its sessions): then there is nobody to store for.
  const exists = await ctx.storage.accounts.exists(ctx.host.name, session.username);
  const outcome = offline && exists ? await offline.store(session.username, stanza) : "unavailable";
  if (outcome === "full") {
    await router.bounce(
      stanza,
      new StanzaError("wait", "resource-constraint", "The recipient's offline storage is full"),
    );
  } else if (outcome === "unavailable") {
    await router.bounce(stanza, new StanzaError("cancel", "service-unavailable"));
  }
}
