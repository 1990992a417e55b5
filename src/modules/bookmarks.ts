/**
 * Bookmarks, kept once and shown three ways:
 *
 * | where                                   | spec                   | how                                       |
 * |-----------------------------------------|------------------------|-------------------------------------------|
 * | PEP node `urn:xmpp:bookmarks:1`         | XEP-0402               | the truth: one item per room              |
 * | private storage `storage:bookmarks`     | XEP-0048 1.0 / XEP-0049| built from the PEP items on every read    |
 * | PEP node `storage:bookmarks`            | XEP-0048 1.1           | republished whenever the items change     |
 *
 * A client writing the whole list through either legacy form gets it applied to the XEP-0402 items as a diff (new
 * and changed rooms published, missing ones retracted, unchanged ones left alone: XEP-0402 §5.3). That is what
 * `urn:xmpp:bookmarks:1#compat` and `#compat-pep` promise. URL bookmarks, which XEP-0402 dropped, are kept aside
 * and shown in the legacy forms only.
 *
 * Loops are impossible by construction: changes this module makes carry `origin.by = "bookmarks"` and are not
 * mirrored again, and every mirror is a diff against the current state.
 */
import type { ModuleDefinition } from "../core/module.ts";
import { tryParseJid } from "../jid/jid.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { KeyedLock } from "./im/keyed-lock.ts";
import { parseStoredStanza } from "./im/stored-stanza.ts";
import { pubsubErrors } from "./pubsub/errors.ts";

export const NS_BOOKMARKS2 = "urn:xmpp:bookmarks:1";
export const NS_LEGACY = "storage:bookmarks";
const ORIGIN = { by: "bookmarks" };
/** Where the legacy URL bookmarks are kept: key-value store and key. */
const URL_STORE = "bookmarks";
const URL_KEY = "urls";

/** XEP-0402 §5 / XEP-0223: private, persistent, as many items as rooms, never pushed on presence. */
const PRIVATE_NODE = {
  "pubsub#access_model": ["whitelist"],
  "pubsub#persist_items": ["1"],
  "pubsub#send_last_published_item": ["never"],
};

function isTrue(v: string | undefined): boolean {
  return v === "true" || v === "1";
}

/** A XEP-0048 `<conference jid=…>` as a XEP-0402 item: id and `<conference xmlns='urn:xmpp:bookmarks:1'/>`. */
export function fromLegacy(c: XmlElement): { id: string; conference: XmlElement } | null {
  const jid = tryParseJid(c.attrs.jid ?? "");
  if (!jid?.isBare) return null;
  const conference = xml("conference", {
    xmlns: NS_BOOKMARKS2,
    name: c.attrs.name,
    autojoin: isTrue(c.attrs.autojoin) ? "true" : undefined,
  });
  const extensions: XmlElement[] = [];
  for (const child of c.elements()) {
    if ((child.name === "nick" || child.name === "password") && child.attrs.xmlns === undefined) {
      conference.append(xml(child.name, null, child.text()));
    } else {
      extensions.push(child.clone());
    }
  }
  if (extensions.length > 0) conference.append(xml("extensions", null, ...extensions));
  return { id: jid.bareString, conference };
}

/** A XEP-0402 item as a XEP-0048 `<conference/>` child of `<storage xmlns='storage:bookmarks'/>`. */
export function toLegacy(id: string, conference: XmlElement | null): XmlElement {
  const c = xml("conference", {
    jid: id,
    name: conference?.attrs.name,
    autojoin: isTrue(conference?.attrs.autojoin) ? "true" : undefined,
  });
  for (const child of conference?.elements() ?? []) {
    if (child.name === "nick" || child.name === "password") c.append(xml(child.name, null, child.text()));
    else if (child.name === "extensions") for (const e of child.elements()) c.append(e.clone());
  }
  return c;
}

/** A canonical form of a XEP-0402 conference, to tell real changes from rewrites. */
function canonical(conference: XmlElement | null): string {
  if (!conference) return "";
  return fromLegacy(toLegacy("x@y", conference))?.conference.toString() ?? "";
}

/** XEP-0402 + XEP-0048 (both forms) with the XEP-0402 §5.3 compatibility. Needs the pep module. */
export const bookmarksModule: ModuleDefinition = {
  name: "bookmarks",
  specs: [
    { spec: "XEP-0402", version: "1.2.0", note: "with urn:xmpp:bookmarks:1#compat and #compat-pep" },
    { spec: "XEP-0048", version: "1.2", note: "in private storage (1.0) and in PEP (1.1)" },
    { spec: "XEP-0411", version: "1.0.0", note: "superseded by XEP-0402 §5.3, which is what is implemented" },
  ],
  load(ctx) {
    const pep = ctx.service("pep");
    if (!pep) throw new Error("the bookmarks module needs the pep module");
    const host = ctx.host.name;
    const lock = new KeyedLock();

    pep.addPolicy(NS_BOOKMARKS2, {
      defaults: { ...PRIVATE_NODE, "pubsub#max_items": ["max"] },
      validate(payload, id) {
        // XEP-0402 §3: the item id is the room's bare JID, the payload one conference element.
        const jid = tryParseJid(id);
        if (!jid?.isBare || jid.local === "") throw pubsubErrors.invalidPayload("Item ids are room JIDs");
        if (payload.name !== "conference" || payload.attrs.xmlns !== NS_BOOKMARKS2) {
          throw pubsubErrors.invalidPayload("A bookmark is a <conference xmlns='urn:xmpp:bookmarks:1'/>");
        }
      },
    });
    pep.addPolicy(NS_LEGACY, {
      defaults: { ...PRIVATE_NODE, "pubsub#max_items": ["1"] },
      validate(payload) {
        if (payload.name !== "storage" || payload.attrs.xmlns !== NS_LEGACY) {
          throw pubsubErrors.invalidPayload("XEP-0048 bookmarks are a <storage xmlns='storage:bookmarks'/>");
        }
      },
    });

    const urls = async (username: string): Promise<XmlElement[]> => {
      const raw = await ctx.storage.kv.get(host, username, URL_STORE, URL_KEY);
      return raw ? (parseStoredStanza(raw)?.getChildren("url") ?? []) : [];
    };

    /** The XEP-0048 `<storage/>` the current items make. */
    const legacyView = async (username: string): Promise<XmlElement> => {
      const storage = xml("storage", { xmlns: NS_LEGACY });
      for (const it of await pep.items(username, NS_BOOKMARKS2)) storage.append(toLegacy(it.id, it.payload));
      for (const u of await urls(username)) storage.append(u);
      return storage;
    };

    /** XEP-0048 1.1: keeps the legacy PEP node equal to the items (created on first use, private). */
    const refreshLegacyPep = async (username: string): Promise<void> => {
      const view = await legacyView(username);
      const [current] = await pep.items(username, NS_LEGACY, { max: 1 });
      if (current?.payload && sameBookmarks(current.payload, view)) return;
      await pep.publish(username, NS_LEGACY, { id: "current", payload: view }, ORIGIN);
    };

    /** Applies a whole legacy list to the XEP-0402 items, as a diff. */
    const applyLegacy = async (username: string, storage: XmlElement): Promise<void> => {
      const wanted = new Map<string, XmlElement>();
      for (const c of storage.getChildren("conference")) {
        const item = fromLegacy(c);
        if (item) wanted.set(item.id, item.conference);
      }
      const current = new Map((await pep.items(username, NS_BOOKMARKS2)).map((it) => [it.id, it.payload]));
      for (const [id, conference] of wanted) {
        if (current.has(id) && canonical(current.get(id) ?? null) === canonical(conference)) continue;
        await pep.publish(username, NS_BOOKMARKS2, { id, payload: conference }, ORIGIN);
      }
      for (const id of current.keys()) {
        if (!wanted.has(id)) await pep.retract(username, NS_BOOKMARKS2, id, ORIGIN);
      }
      const links = storage.getChildren("url").map((u) => u.clone());
      if (links.length > 0) {
        await ctx.storage.kv.set(host, username, URL_STORE, URL_KEY, xml("urls", null, ...links).toString());
      } else {
        await ctx.storage.kv.delete(host, username, URL_STORE, URL_KEY);
      }
    };

    // XEP-0049: private storage of storage:bookmarks reads and writes the items.
    const privateStorage = ctx.service("privateStorage");
    privateStorage?.claim(NS_LEGACY, "storage", {
      get: (username) => lock.run(username, () => legacyView(username)),
      set: (username, doc) =>
        lock.run(username, async () => {
          await applyLegacy(username, doc);
          await refreshLegacyPep(username);
        }),
    });

    ctx.on("pep.published", async ({ username, node, item, origin }) => {
      if (origin.by === ORIGIN.by) return;
      if (node === NS_BOOKMARKS2) await lock.run(username, () => refreshLegacyPep(username));
      else if (node === NS_LEGACY && item.payload) {
        const payload = item.payload;
        await lock.run(username, async () => {
          await applyLegacy(username, payload);
          await refreshLegacyPep(username);
        });
      }
    });
    ctx.on("pep.retracted", async ({ username, node, origin }) => {
      if (origin.by !== ORIGIN.by && node === NS_BOOKMARKS2) {
        await lock.run(username, () => refreshLegacyPep(username));
      }
    });
    ctx.on("pep.cleared", async ({ username, node, origin }) => {
      if (origin.by !== ORIGIN.by && node === NS_BOOKMARKS2) {
        await lock.run(username, () => refreshLegacyPep(username));
      }
    });

    ctx.accountFeature(`${NS_BOOKMARKS2}#compat`);
    ctx.accountFeature(`${NS_BOOKMARKS2}#compat-pep`);

    ctx.on("account.deleted", async ({ username }) => {
      await ctx.storage.kv.delete(host, username, URL_STORE, URL_KEY);
    });
  },
};

/** Whether two legacy lists hold the same bookmarks (whatever the spelling of attributes or the order). */
function sameBookmarks(a: XmlElement, b: XmlElement): boolean {
  const key = (s: XmlElement) =>
    [
      ...s
        .getChildren("conference")
        .map(fromLegacy)
        .filter((x) => x !== null)
        .map((x) => `${x.id} ${x.conference.toString()}`),
      ...s.getChildren("url").map((u) => u.toString()),
    ]
      .sort()
      .join("\n");
  return key(a) === key(b);
}
