import { StanzaError } from "../core/errors.ts";
import type { StanzaEvent } from "../core/host.ts";
import type { ModuleContext, ModuleDefinition } from "../core/module.ts";
import { errorReplyFrom, iqResult } from "../core/stanza.ts";
import type { Jid } from "../jid/jid.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { type ParsedForm, readForm } from "../xmpp/data-forms.ts";
import { NS } from "../xmpp/ns.ts";
import { type CommandSession, CommandSessions } from "./adhoc/sessions.ts";

/** Actions a response may offer (XEP-0050 §3.4); `execute` stands for the default one. */
export type AdhocAction = "next" | "prev" | "complete";

/** A note shown with a response (XEP-0050 §3.5). */
export interface AdhocNote {
  type: "info" | "warn" | "error";
  text: string;
}

/** One step of a command, as the command sees it. */
export interface AdhocRequest {
  /** The requester's full JID. */
  requester: Jid;
  /** What the requester asked for; `execute` only on the first step. */
  action: "execute" | AdhocAction;
  /** The form the requester submitted with this step, if any. */
  form: ParsedForm | null;
  /** The command's data, kept between the steps of one session; empty on the first. */
  state: Record<string, unknown>;
  /** Steps of this session that ran before (0 on the first). */
  stage: number;
}

/** What a step answers: more to do (a form and the allowed actions), or done. */
export type AdhocResponse =
  | {
      status: "executing";
      form: XmlElement;
      /** Allowed actions; default: complete only. */
      actions?: AdhocAction[];
      /** What `execute` means; default: the last allowed action. */
      execute?: AdhocAction;
      notes?: AdhocNote[];
    }
  | { status: "completed"; form?: XmlElement; notes?: AdhocNote[] };

/** A command a module offers at the host's JID (XEP-0050). */
export interface AdhocCommand {
  node: string;
  name: string;
  /** Whether the requester may see and run the command. */
  allowed(requester: Jid): boolean;
  /** Runs one step. Throwing a StanzaError answers the step with that error and keeps the session. */
  run(req: AdhocRequest): AdhocResponse | Promise<AdhocResponse>;
}

/** The ad-hoc commands framework other modules register their commands with. */
export interface AdhocService {
  add(command: AdhocCommand): void;
  /** The JID is a server administrator (listed in `admins`) with an account on this server. */
  isAdmin(jid: Jid): boolean;
}

declare module "../core/module.ts" {
  interface HostServices {
    adhoc: AdhocService;
  }
}

/** XEP-0050 §4.6 application-specific error conditions. */
type CommandErrorCondition = "bad-action" | "bad-sessionid" | "malformed-action" | "session-expired";

/** Sessions die after 10 minutes without a step (a person filling in a form). */
const SESSION_LIFETIME_MS = 10 * 60_000;
const MAX_SESSIONS_PER_REQUESTER = 10;
const MAX_SESSIONS = 10_000;

const ACTIONS = new Set(["execute", "next", "prev", "complete", "cancel"]);

/** Answers an iq with an error carrying an XEP-0050 condition next to the RFC 6120 one. */
async function commandError(
  ctx: ModuleContext,
  stanza: XmlElement,
  err: StanzaError,
  app?: CommandErrorCondition,
): Promise<void> {
  const reply = errorReplyFrom(stanza, err);
  if (!reply) return;
  if (app) reply.getChild("error")?.append(xml(app, { xmlns: NS.commands }));
  await ctx.send(reply);
}

function commandElement(node: string, sessionid: string, response: AdhocResponse | { status: "canceled" }) {
  const el = xml("command", { xmlns: NS.commands, node, sessionid, status: response.status });
  if (response.status === "canceled") return el;
  if (response.status === "executing") {
    const actions = response.actions ?? ["complete"];
    const execute = response.execute ?? actions[actions.length - 1];
    el.append(xml("actions", { execute }, ...actions.map((a) => xml(a))));
  }
  for (const note of response.notes ?? []) el.append(xml("note", { type: note.type }, note.text));
  if (response.form) el.append(response.form);
  return el;
}

/**
 * XEP-0050 Ad-Hoc Commands at the host's JID: commands that modules register, listed in disco (only those
 * the requester may run), executed in sessions with data forms, and the execute/next/prev/complete/cancel
 * actions. XEP-0133 admin commands and XEP-0401 invitations are commands of other modules.
 */
export const adhocModule: ModuleDefinition = {
  name: "adhoc",
  specs: [{ spec: "XEP-0050", version: "1.3.0" }],
  load(ctx) {
    const commands = new Map<string, AdhocCommand>();
    const sessions = new CommandSessions(SESSION_LIFETIME_MS, MAX_SESSIONS_PER_REQUESTER, MAX_SESSIONS);
    const sweeper = setInterval(() => sessions.sweep(), 60_000);
    sweeper.unref();
    ctx.onStop(() => clearInterval(sweeper));

    const isAdmin = (jid: Jid) =>
      ctx.config.admins.includes(jid.bareString) && ctx.server.userHost(jid.domain) !== undefined;
    ctx.provide("adhoc", {
      add(command) {
        if (commands.has(command.node)) throw new Error(`ad-hoc command ${command.node} is already registered`);
        commands.set(command.node, command);
      },
      isAdmin,
    });
    ctx.feature(NS.commands);

    // XEP-0050 §2.2: the command list is the disco#items of the commands node, filtered by permission.
    ctx.on(
      `iq-get/host/${NS.discoItems}`,
      async (ev) => {
        if (ev.stanza.firstElement()?.attrs.node !== NS.commands) return undefined;
        const query = xml("query", { xmlns: NS.discoItems, node: NS.commands });
        for (const c of commands.values()) {
          if (c.allowed(ev.from)) query.append(xml("item", { jid: ctx.host.name, node: c.node, name: c.name }));
        }
        await ctx.send(iqResult(ev.stanza, query));
        return true;
      },
      10,
    );

    // XEP-0050 §2.3: disco#info on a command's node says it is a command and takes data forms.
    ctx.on(
      `iq-get/host/${NS.discoInfo}`,
      async (ev) => {
        const node = ev.stanza.firstElement()?.attrs.node;
        let query: XmlElement;
        if (node === NS.commands) {
          query = xml(
            "query",
            { xmlns: NS.discoInfo, node },
            xml("identity", { category: "automation", type: "command-list", name: "Commands" }),
          );
        } else {
          const c = node === undefined ? undefined : commands.get(node);
          if (!c?.allowed(ev.from)) return undefined;
          query = xml(
            "query",
            { xmlns: NS.discoInfo, node },
            xml("identity", { category: "automation", type: "command-node", name: c.name }),
            xml("feature", { var: NS.commands }),
            xml("feature", { var: NS.dataForms }),
          );
        }
        await ctx.send(iqResult(ev.stanza, query));
        return true;
      },
      10,
    );

    const respond = (ev: StanzaEvent, node: string, sessionid: string, r: Parameters<typeof commandElement>[2]) =>
      ctx.send(iqResult(ev.stanza, commandElement(node, sessionid, r)));

    /** Runs one step and remembers the session while the command is executing. */
    const step = async (ev: StanzaEvent, c: AdhocCommand, session: CommandSession, action: AdhocRequest["action"]) => {
      const el = ev.stanza.firstElement() as XmlElement;
      let response: AdhocResponse;
      try {
        response = await c.run({
          requester: ev.from,
          action,
          form: readForm(el) ?? null,
          state: session.state,
          stage: session.stage,
        });
      } catch (err) {
        if (!(err instanceof StanzaError)) throw err;
        await commandError(ctx, ev.stanza, err);
        return;
      }
      session.stage++;
      if (response.status === "executing") {
        session.actions = response.actions ?? ["complete"];
        session.execute = response.execute ?? (session.actions[session.actions.length - 1] as string);
        sessions.save(session);
      } else {
        sessions.delete(session.id);
      }
      await respond(ev, c.node, session.id, response);
    };

    ctx.on(`iq-set/host/${NS.commands}`, async (ev) => {
      const el = ev.stanza.firstElement() as XmlElement;
      const node = el.attrs.node ?? "";
      const action = el.attrs.action ?? "execute";
      const c = commands.get(node);
      if (!c) {
        await commandError(ctx, ev.stanza, new StanzaError("cancel", "item-not-found", "No such command"));
        return true;
      }
      // XEP-0050 §4.6: forbidden, the requester may not run this command.
      if (!c.allowed(ev.from)) {
        await commandError(ctx, ev.stanza, new StanzaError("auth", "forbidden", "You may not run this command"));
        return true;
      }
      if (!ACTIONS.has(action)) {
        await commandError(ctx, ev.stanza, new StanzaError("modify", "bad-request"), "malformed-action");
        return true;
      }
      const id = el.attrs.sessionid;
      if (id === undefined) {
        if (action !== "execute") {
          await commandError(ctx, ev.stanza, new StanzaError("modify", "bad-request"), "bad-action");
          return true;
        }
        const session: CommandSession = {
          id: sessions.newId(node),
          node,
          owner: ev.from.toString(),
          state: {},
          stage: 0,
          actions: [],
          execute: "complete",
          expiresAt: 0,
        };
        await step(ev, c, session, "execute");
        return true;
      }
      const found = sessions.get(id);
      if (found === "expired") {
        await commandError(ctx, ev.stanza, new StanzaError("cancel", "not-allowed"), "session-expired");
        return true;
      }
      // A session belongs to the full JID that started it, for this node; anyone else learns nothing about it.
      if (!found || found.owner !== ev.from.toString() || found.node !== node) {
        await commandError(ctx, ev.stanza, new StanzaError("modify", "bad-request"), "bad-sessionid");
        return true;
      }
      if (action === "cancel") {
        sessions.delete(id);
        await respond(ev, node, id, { status: "canceled" });
        return true;
      }
      const wanted = action === "execute" ? found.execute : action;
      if (!found.actions.includes(wanted)) {
        await commandError(ctx, ev.stanza, new StanzaError("modify", "bad-request"), "bad-action");
        return true;
      }
      await step(ev, c, found, wanted as AdhocAction);
      return true;
    });
  },
};
