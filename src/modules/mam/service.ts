/**
 * The `archive` service: appending to and querying any message archive (a user's or a room's) with the MAM
 * protocol. It knows nothing about accounts: who may read an archive and what goes into it is the caller's
 * business (mam.ts for users, the MUC module for rooms).
 */
import { StanzaError } from "../../core/errors.ts";
import { iqResult } from "../../core/stanza.ts";
import type { Logger } from "../../log.ts";
import {
  type ArchiveEntry,
  ArchiveIdNotFoundError,
  type ArchiveRef,
  type ArchiveStore,
} from "../../storage/archive.ts";
import { parseDocument } from "../../xml/document.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { queryForm } from "./form.ts";
import { MAM_NAMESPACES, MAM_NS } from "./ns.ts";
import { parseMamQuery } from "./query.ts";
import { finElement, metadataElement, resultMessage } from "./results.ts";
import { newArchiveId, stampStanzaId, stripStanzaIds } from "./stanza-id.ts";

/** How `ArchiveService.append` records a message. */
export interface AppendOptions {
  /** The other party, as the `with` filter will match it (see `ArchiveEntry.with`). */
  with: string;
  /**
   * Add `<stanza-id by='archive JID' id='…'/>` to the live stanza after storing it (default true): for messages
   * the archive's owner receives. False for a user's outgoing messages, whose recipient must not see the user's
   * archive id (XEP-0313 §3.5).
   */
  stamp?: boolean;
  /** Archive time, ms since the epoch (default now). */
  timestamp?: number;
}

/** How `ArchiveService.answer` presents an archive. */
export interface AnswerOptions {
  /**
   * Rewrites each archived message before it is sent to this requester (a room strips `to` and adds or hides
   * real JIDs, XEP-0313 §5.1.2). Gets a fresh copy it may change; returning null leaves the entry out of the page
   * (the RSM summary still describes the whole page).
   */
  present?: (message: XmlElement, entry: ArchiveEntry) => XmlElement | null;
}

/**
 * Message archives as a service. The MUC module uses it for room archives:
 *
 *     const archive = ctx.service("archive");            // on the user host that loads the MUC module
 *     const ref = { host: "conference.localhost", owner: "room", kind: "room" } as const;
 *     await archive.append(ref, message, { with: occupantRealBareJid });   // before broadcasting: stamps stanza-id
 *     for (const ns of archive.namespaces)
 *       for (const type of ["get", "set"] as const)
 *         mucCtx.on(`iq-${type}/bare/${ns}`, async (ev) => {
 *           // access control first (members-only rooms, outcasts: XEP-0313 §5.1.2), then:
 *           await archive.answer(refOf(ev.to), ev.stanza, { present });
 *           return true;
 *         });
 *
 * The archive's JID (the `by` of stanza-ids, the `from` of results) is `owner@host` of the ref.
 */
export interface ArchiveService {
  /** The MAM namespaces a query may use (urn:xmpp:mam:2, :1, :0); answer() replies in the one it was asked in. */
  readonly namespaces: readonly string[];
  /**
   * Stores a message in an archive and returns its id. Any `<stanza-id/>` claiming to be from this archive is
   * removed first (XEP-0359 §3.3), then the new one is added unless `stamp` is false. Serialize or deliver the
   * stanza only after this resolves.
   */
  append(ref: ArchiveRef, message: XmlElement, opts: AppendOptions): Promise<string>;
  /**
   * Answers a MAM iq addressed to the archive (its `to` is the archive's JID, its `from` the requester): an iq get
   * of `<query/>` with the query form, an iq get of `<metadata/>` with the archive's first and last entries, an iq
   * set of `<query/>` with the result messages followed by the iq result carrying `<fin/>` (XEP-0313 §4). Sends
   * everything itself; throws StanzaError (bad-request, item-not-found, feature-not-implemented, ...) before
   * sending anything, for the caller to bounce.
   */
  answer(ref: ArchiveRef, iq: XmlElement, opts?: AnswerOptions): Promise<void>;
}

/** What the service needs from the server. */
export interface ArchiveServiceDeps {
  store: ArchiveStore;
  /** Hands a stanza to its `to` (the querying entity): straight to a local session, else through the router. */
  deliver(stanza: XmlElement): Promise<void>;
  /** Largest page (archive.max_page_size). */
  maxPageSize: number;
  log: Logger;
}

/** Guards against a damaged row only; everything stored passed the stream limits when it arrived. */
const STORED_LIMITS = { maxStanzaBytes: 16 * 1024 * 1024, maxDepth: 1000 };

function archiveJid(ref: ArchiveRef): string {
  return `${ref.owner}@${ref.host}`;
}

export function createArchiveService(deps: ArchiveServiceDeps): ArchiveService {
  const { store, deliver, maxPageSize, log } = deps;

  const parseStored = (entry: ArchiveEntry): XmlElement | null => {
    try {
      return parseDocument(entry.stanza, STORED_LIMITS);
    } catch (err) {
      log.warn({ err, id: entry.id }, "skipping a damaged archive entry");
      return null;
    }
  };

  const runQuery = async (ref: ArchiveRef, iq: XmlElement, query: XmlElement, ns: string, opts: AnswerOptions) => {
    const req = parseMamQuery(query, ns, maxPageSize);
    let page: Awaited<ReturnType<ArchiveStore["query"]>>;
    try {
      page = await store.query(ref, {
        ...req.filter,
        limit: Math.min(req.rsm.max ?? maxPageSize, maxPageSize),
        after: req.rsm.after,
        before: typeof req.rsm.before === "string" ? req.rsm.before : undefined,
        fromEnd: req.rsm.before === true,
        offset: req.rsm.index,
      });
    } catch (err) {
      // §4.1.4 / §4.3.2: an unknown id in the filters or in RSM.
      if (err instanceof ArchiveIdNotFoundError) throw new StanzaError("cancel", "item-not-found", err.message);
      throw err;
    }
    const from = archiveJid(ref);
    const to = iq.attrs.from ?? "";
    // urn:xmpp:mam:0 acknowledged the query first and ended it with a <fin/> message.
    if (ns === MAM_NS.v0) await deliver(iqResult(iq, null));
    const entries = req.flip ? [...page.entries].reverse() : page.entries;
    for (const entry of entries) {
      const stored = parseStored(entry);
      const message = stored && opts.present ? opts.present(stored, entry) : stored;
      if (!message) continue;
      await deliver(
        resultMessage({ ns, queryId: req.queryId, id: entry.id, timestamp: entry.timestamp, message, from, to }),
      );
    }
    const fin = finElement(ns, req.queryId, page);
    if (ns === MAM_NS.v0) await deliver(xml("message", { from, to }, fin));
    else await deliver(iqResult(iq, fin));
  };

  const metadata = async (ref: ArchiveRef) => {
    const first = (await store.query(ref, { limit: 1 })).entries[0];
    const last = (await store.query(ref, { limit: 1, fromEnd: true })).entries[0];
    return metadataElement(first, last);
  };

  return {
    namespaces: MAM_NAMESPACES,

    async append(ref, message, opts) {
      const by = archiveJid(ref);
      stripStanzaIds(message, by);
      const id = newArchiveId();
      await store.append(ref, {
        id,
        timestamp: opts.timestamp ?? Date.now(),
        with: opts.with,
        stanza: message.toString(),
      });
      if (opts.stamp !== false) stampStanzaId(message, by, id);
      return id;
    },

    async answer(ref, iq, opts = {}) {
      const payload = iq.firstElement();
      const ns = payload?.attrs.xmlns ?? "";
      if (!payload || !MAM_NAMESPACES.includes(ns)) throw new StanzaError("modify", "bad-request", "Not a MAM request");
      const type = iq.attrs.type;
      if (payload.name === "query" && type === "set") return runQuery(ref, iq, payload, ns, opts);
      if (payload.name === "query" && type === "get") {
        return deliver(iqResult(iq, xml("query", { xmlns: ns }, queryForm(ns))));
      }
      if (payload.name === "metadata" && type === "get" && ns === MAM_NS.v2) {
        return deliver(iqResult(iq, await metadata(ref)));
      }
      throw new StanzaError("cancel", "feature-not-implemented");
    },
  };
}
