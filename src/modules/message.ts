import { StanzaError } from "../core/errors.ts";
import type { StanzaEvent } from "../core/host.ts";
import type { ModuleContext, ModuleDefinition } from "../core/module.ts";
import type { C2sSession } from "../core/session.ts";

export type MessageType = "chat" | "error" | "groupchat" | "headline" | "normal";

/** RFC 6120 §8.2.2 / RFC 6121 §5.2.2: a missing or unknown type means "normal". */
function messageType(type: string | undefined): MessageType {
  return type === "chat" || type === "error" || type === "groupchat" || type === "headline" ? type : "normal";
}

/**
 * The resources a message to the bare JID goes to (RFC 6121 §8.5.2.1.1): available resources with a non-negative
 * priority. Hearth policy for chat and normal messages: all of those that share the highest priority (the RFC
 * allows that or every non-negative resource); headlines go to all of them.
 */
export function bareRecipients(resources: C2sSession[], type: MessageType): C2sSession[] {
  const eligible = resources.filter((s) => s.presence !== null && s.priority >= 0);
  if (type === "headline" || eligible.length === 0) return eligible;
  const top = Math.max(...eligible.map((s) => s.priority));
  return eligible.filter((s) => s.priority === top);
}

/**
 * Message delivery to local accounts, RFC 6121 §8.5:
 *
 * | to        | type            | resource available                     | none available / no such resource        |
 * |-----------|-----------------|----------------------------------------|------------------------------------------|
 * | bare JID  | chat, normal    | highest non-negative priority (all)    | offline storage (§8.5.2.2.1)             |
 * | bare JID  | headline        | all non-negative priority              | dropped                                  |
 * | bare JID  | groupchat       | service-unavailable                    | service-unavailable                      |
 * | bare JID  | error           | dropped                                | dropped                                  |
 * | full JID  | any             | that resource (§8.5.3.1)               | chat as bare; normal, groupchat          |
 * |           |                 |                                        | service-unavailable; headline/error drop |
 * | no account| any but error   | –                                      | service-unavailable (§8.5.1)             |
 */
export const messageModule: ModuleDefinition = {
  name: "message",
  specs: [{ spec: "RFC 6121", note: "§8.5 message delivery rules" }],
  load(ctx) {
    ctx.on("message/bare", (ev) => toBare(ctx, ev));
    ctx.on("message/full", (ev) => {
      const session = ctx.sessions.get(ev.to);
      if (session) {
        session.send(ev.stanza);
        return true;
      }
      // §8.5.3.2.1: the resource is gone. Only chat follows the bare-JID rules; normal and groupchat are
      // refused (the sender learns it did not arrive), headline and error dropped.
      const type = messageType(ev.stanza.attrs.type);
      if (type === "chat") return toBare(ctx, ev);
      if (type === "normal" || type === "groupchat") throw new StanzaError("cancel", "service-unavailable");
      return true;
    });
  },
};

async function toBare(ctx: ModuleContext, ev: StanzaEvent): Promise<true> {
  const type = messageType(ev.stanza.attrs.type);
  // §8.5.2.1.1: errors addressed to an account are not delivered; groupchat to a bare JID is refused.
  if (type === "error") return true;
  if (type === "groupchat") throw new StanzaError("cancel", "service-unavailable");
  const recipients = bareRecipients(ctx.sessions.resources(ev.to), type);
  if (recipients.length > 0) {
    recipients.forEach((s, i) => {
      s.send(i === 0 ? ev.stanza : ev.stanza.clone());
    });
    return true;
  }
  // §8.5.2.2.1: no resource to deliver to.
  if (type === "headline") return true;
  const username = ev.to.local;
  if (!ctx.sessions.isOnline(ev.to) && !(await ctx.storage.accounts.exists(ctx.host.name, username))) {
    throw new StanzaError("cancel", "service-unavailable"); // §8.5.1
  }
  const offline = ctx.service("offline");
  if (!offline) throw new StanzaError("cancel", "service-unavailable");
  const outcome = await offline.store(username, ev.stanza);
  if (outcome === "full") {
    throw new StanzaError("wait", "resource-constraint", "The recipient's offline storage is full");
  }
  return true;
}
