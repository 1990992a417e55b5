import { StanzaError } from "../core/errors.ts";
import type { StanzaEvent } from "../core/host.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { parseStoredStanza } from "./im/stored-stanza.ts";

export const NS_PRIVATE = "jabber:iq:private";

/** Key-value store holding the documents: key = `{namespace}name`. */
const STORE = "private";
/** Largest document kept, serialized (a bookmark list of a few hundred rooms is ~50 KB). */
export const PRIVATE_MAX_BYTES = 128 * 1024;
/** Most documents per account. */
const MAX_DOCUMENTS = 100;

/** A module that keeps one kind of document itself (e.g. bookmarks, kept in PEP since XEP-0402). */
export interface PrivateDocumentHandler {
  /** The document, or null when there is none. */
  get(username: string): Promise<XmlElement | null>;
  /** Stores a new version of the document. Throws a StanzaError to refuse it. */
  set(username: string, doc: XmlElement): Promise<void>;
}

/** The `privateStorage` service. */
export interface PrivateStorageService {
  /** Takes over the documents with this namespace and element name. */
  claim(ns: string, name: string, handler: PrivateDocumentHandler): void;
  /** The stored document (bypassing claims), or null. */
  get(username: string, ns: string, name: string): Promise<XmlElement | null>;
  /** Stores a document (bypassing claims). */
  set(username: string, doc: XmlElement): Promise<void>;
}

declare module "../core/module.ts" {
  interface HostServices {
    privateStorage: PrivateStorageService;
  }
}

function keyOf(ns: string, name: string): string {
  return `{${ns}}${name}`;
}

/** XEP-0049 §3: namespaces a client may not store under (the protocol's own and the stream's). */
function checkNamespace(el: XmlElement): string {
  const ns = el.attrs.xmlns;
  if (!ns || ns === NS_PRIVATE || ns === "jabber:client" || ns === "jabber:server" || ns.startsWith("jabber:iq:")) {
    throw new StanzaError("modify", "not-acceptable", "Private data needs its own namespace");
  }
  return ns;
}

/** XEP-0049 Private XML Storage: small XML documents only the account itself can read and write. */
export const privateStorageModule: ModuleDefinition = {
  name: "private-storage",
  specs: [{ spec: "XEP-0049", version: "1.2" }],
  load(ctx) {
    const host = ctx.host.name;
    const claims = new Map<string, PrivateDocumentHandler>();

    const getStored = async (username: string, ns: string, name: string): Promise<XmlElement | null> => {
      const raw = await ctx.storage.kv.get(host, username, STORE, keyOf(ns, name));
      return raw === null ? null : parseStoredStanza(raw);
    };
    const setStored = async (username: string, doc: XmlElement): Promise<void> => {
      const ns = checkNamespace(doc);
      const key = keyOf(ns, doc.name);
      const serialized = doc.toString();
      if (Buffer.byteLength(serialized) > PRIVATE_MAX_BYTES) {
        throw new StanzaError("modify", "not-acceptable", `Private data is limited to ${PRIVATE_MAX_BYTES} bytes`);
      }
      // An empty element clears the document (what clients send to remove it).
      if (doc.children.length === 0 && Object.keys(doc.attrs).length === 1) {
        await ctx.storage.kv.delete(host, username, STORE, key);
        return;
      }
      const keys = await ctx.storage.kv.keys(host, username, STORE);
      if (!keys.includes(key) && keys.length >= MAX_DOCUMENTS) {
        throw new StanzaError("wait", "resource-constraint", "Too many private documents");
      }
      await ctx.storage.kv.set(host, username, STORE, key, serialized);
    };

    ctx.provide("privateStorage", {
      claim: (ns, name, handler) => claims.set(keyOf(ns, name), handler),
      get: getStored,
      set: setStored,
    });
    ctx.accountFeature(NS_PRIVATE);

    // XEP-0049 §3: only the account itself, at its bare JID (or without 'to').
    const own = (ev: StanzaEvent): XmlElement[] => {
      if (ev.from.bareString !== ev.to.bareString) throw new StanzaError("cancel", "forbidden");
      const docs = (ev.stanza.firstElement() as XmlElement).elements();
      if (docs.length === 0) throw new StanzaError("modify", "bad-request", "Name the data to get or set");
      return docs;
    };

    ctx.iq(
      "get",
      NS_PRIVATE,
      async (ev) => {
        const query = xml("query", { xmlns: NS_PRIVATE });
        for (const req of own(ev)) {
          const ns = checkNamespace(req);
          const claim = claims.get(keyOf(ns, req.name));
          const doc = claim ? await claim.get(ev.to.local) : await getStored(ev.to.local, ns, req.name);
          // §3.2: nothing stored answers with the empty element that was asked for.
          query.append(doc ?? xml(req.name, { xmlns: ns }));
        }
        return query;
      },
      "bare",
    );

    ctx.iq(
      "set",
      NS_PRIVATE,
      async (ev) => {
        const docs = own(ev);
        for (const doc of docs) checkNamespace(doc);
        for (const doc of docs) {
          const claim = claims.get(keyOf(doc.attrs.xmlns as string, doc.name));
          if (claim) await claim.set(ev.to.local, doc.clone());
          else await setStored(ev.to.local, doc.clone());
        }
        return null;
      },
      "bare",
    );

    ctx.on("account.deleted", async ({ username }) => {
      for (const key of await ctx.storage.kv.keys(host, username, STORE)) {
        await ctx.storage.kv.delete(host, username, STORE, key);
      }
    });
  },
};
