import { randomBytes } from "node:crypto";
import type { ModuleDefinition } from "../core/module.ts";
import type { XmlElement } from "../xml/element.ts";
import type { BlockedItem } from "./blocking.ts";

export const NS_REPORTING = "urn:xmpp:reporting:1";
/** XEP-0377 0.2, still sent by some clients: `<report xmlns='urn:xmpp:reporting:0' reason='…'/>` or `<spam/>`. */
const NS_REPORTING_0 = "urn:xmpp:reporting:0";
const NS_SID = "urn:xmpp:sid:0";

/** Host-level documents in the key-value store: the empty username is no account. */
const ADMIN_USER = "";
const STORE = "spam-reports";
/** Reports kept per host; the oldest go first, so a flood of reports cannot fill the disk. */
const MAX_REPORTS = 10_000;
/** Archived messages attached to one report as evidence. */
const MAX_EVIDENCE = 20;
const MAX_TEXT = 2000;

/** An abuse report a user filed while blocking someone (XEP-0377). */
export interface SpamReport {
  /** Sortable id: the time, then random. */
  id: string;
  /** Bare JID of the reporting user. */
  reporter: string;
  /** The blocked and reported JID. */
  jid: string;
  /** `urn:xmpp:reporting:spam`, `urn:xmpp:reporting:abuse`, another URI, or null if the client gave none. */
  reason: string | null;
  text: string | null;
  /** The archive ids the user pointed at. */
  stanzaIds: string[];
  /** Those messages as found in the reporter's archive (serialized), so the admin sees what was reported. */
  messages: string[];
  /** ms since the epoch. */
  at: number;
  /** Processing the user agreed to (XEP-0377 §5: `report-origin`, `third-party`); Hearth forwards nowhere. */
  optIn: string[];
}

/** The `spamReports` service: what an admin tool lists. */
export interface SpamReportsService {
  /** Reports on this host, oldest first. */
  list(): Promise<SpamReport[]>;
  /** Removes a handled report; false if there was none. */
  remove(id: string): Promise<boolean>;
}

declare module "../core/module.ts" {
  interface HostServices {
    spamReports: SpamReportsService;
  }
}

/** The report inside a block item, in any of the forms clients send. */
function readReport(
  item: XmlElement,
): { reason: string | null; text: string | null; ids: string[]; optIn: string[] } | null {
  const report = item.getChild("report", NS_REPORTING) ?? item.getChild("report", NS_REPORTING_0);
  if (report) {
    const text = report.getChildText("text")?.trim() || null;
    return {
      reason: report.attrs.reason ?? null,
      text: text && text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text,
      ids: report
        .getChildren("stanza-id", NS_SID)
        .map((s) => s.attrs.id ?? "")
        .filter((id) => id !== ""),
      optIn: ["report-origin", "third-party"].filter((name) => report.getChild(name) !== undefined),
    };
  }
  // COMPAT: XEP-0377 0.2 `<spam xmlns='urn:xmpp:reporting:0'/>` / `<abuse/>`.
  for (const kind of ["spam", "abuse"]) {
    const el = item.getChild(kind, NS_REPORTING_0);
    if (el)
      return {
        reason: `urn:xmpp:reporting:${kind}`,
        text: el.getChildText("text")?.trim() || null,
        ids: [],
        optIn: [],
      };
  }
  return null;
}

/**
 * Spam and abuse reports attached to a block (XEP-0377): the JID is blocked as usual (XEP-0191), the report is
 * logged for the admin (one structured `abuse report` warning) and kept so that an admin tool can list it, with
 * the reported messages copied from the reporter's archive.
 */
export const spamReportingModule: ModuleDefinition = {
  name: "spam-reporting",
  specs: [{ spec: "XEP-0377", version: "0.4.1", note: "reports are logged and stored; nothing is forwarded" }],
  load(ctx) {
    const host = ctx.host.name;
    const kv = ctx.storage.kv;
    ctx.feature(NS_REPORTING);
    // COMPAT: the 0.2 features, for clients that look for them before sending a report.
    ctx.feature(NS_REPORTING_0);
    ctx.feature("urn:xmpp:reporting:reason:spam:0");
    ctx.feature("urn:xmpp:reporting:reason:abuse:0");

    const evidence = async (username: string, ids: string[]): Promise<string[]> => {
      const out: string[] = [];
      for (const id of ids.slice(0, MAX_EVIDENCE)) {
        const entry = await ctx.storage.archive.get({ host, owner: username, kind: "user" }, id);
        if (entry) out.push(entry.stanza);
      }
      return out;
    };

    const file = async (username: string, item: BlockedItem) => {
      const r = readReport(item.element);
      if (!r) return;
      const at = Date.now();
      const report: SpamReport = {
        id: `${String(at).padStart(15, "0")}-${randomBytes(4).toString("hex")}`,
        reporter: `${username}@${host}`,
        jid: item.jid,
        reason: r.reason,
        text: r.text,
        stanzaIds: r.ids,
        messages: await evidence(username, r.ids),
        at,
        optIn: r.optIn,
      };
      ctx.log.warn(
        {
          event: "abuse-report",
          reporter: report.reporter,
          reported: report.jid,
          reason: report.reason,
          text: report.text,
          messages: report.messages.length,
          report: report.id,
        },
        "abuse report",
      );
      await kv.set(host, ADMIN_USER, STORE, report.id, JSON.stringify(report));
      const keys = await kv.keys(host, ADMIN_USER, STORE);
      for (const old of keys.slice(0, Math.max(0, keys.length - MAX_REPORTS))) {
        await kv.delete(host, ADMIN_USER, STORE, old);
      }
    };

    ctx.on("blocking.blocked", async ({ username, items }) => {
      for (const item of items) await file(username, item);
    });

    ctx.provide("spamReports", {
      async list() {
        const out: SpamReport[] = [];
        for (const key of await kv.keys(host, ADMIN_USER, STORE)) {
          const raw = await kv.get(host, ADMIN_USER, STORE, key);
          if (raw !== null) out.push(JSON.parse(raw) as SpamReport);
        }
        return out;
      },
      remove: (id) => kv.delete(host, ADMIN_USER, STORE, id),
    });
  },
};
