import { createHash } from "node:crypto";
import { StanzaError } from "../core/errors.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { parseStoredStanza } from "./im/stored-stanza.ts";

export const NS_VCARD = "vcard-temp";
/** Key-value store and key of the vCard. */
const STORE = "vcard";
const KEY = "";
/** Largest vCard kept, serialized; an avatar inside is base64 (XEP-0153 §6 suggests small images). */
export const VCARD_MAX_BYTES = 128 * 1024;

/** The avatar of a vCard (XEP-0153): image type, base64 data and the SHA-1 (hex) of the decoded bytes. */
export interface VcardPhoto {
  type: string;
  base64: string;
  hash: string;
}

/** The `vcard` service: read and write vCards on behalf of accounts (avatar conversion, XEP-0398). */
export interface VcardService {
  get(username: string): Promise<XmlElement | null>;
  /** Stores a vCard (as the account's client would) and fires `vcard.updated`. */
  set(username: string, vcard: XmlElement, origin?: { by?: string }): Promise<void>;
  /** The vCard's avatar, if it has one inline (BINVAL). */
  photo(username: string): Promise<VcardPhoto | null>;
  /** SHA-1 of the avatar for XEP-0153 presence, null without one; cached. */
  photoHash(username: string): Promise<string | null>;
  /** The cached `photoHash`, or undefined when it has not been read yet (for hot paths that must not wait). */
  cachedPhotoHash(username: string): string | null | undefined;
  /** Replaces (or, with null, removes) the vCard's PHOTO, keeping the rest of it. */
  setPhoto(username: string, photo: { type: string; base64: string } | null, origin?: { by?: string }): Promise<void>;
}

declare module "../core/module.ts" {
  interface HostServices {
    vcard: VcardService;
  }
}

declare module "../core/host.ts" {
  interface HostEvents {
    /** An account's vcard-temp was replaced. `origin.by` names the module that did it on the user's behalf. */
    "vcard.updated": { username: string; vcard: XmlElement; origin: { by?: string } };
  }
}

/** Reads the inline PHOTO of a vCard (XEP-0054 PHOTO with TYPE and BINVAL). */
export function photoOf(vcard: XmlElement | null): VcardPhoto | null {
  const photo = vcard?.getChild("PHOTO");
  const base64 = photo?.getChildText("BINVAL")?.replace(/\s+/g, "");
  if (!photo || !base64) return null;
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length === 0) return null;
  return {
    type: photo.getChildText("TYPE")?.trim() || "image/png",
    base64,
    hash: createHash("sha1").update(bytes).digest("hex"),
  };
}

/**
 * XEP-0054 vcard-temp: each account stores its vCard at its bare JID; anyone may read it. XEP-0153's presence
 * hash comes from `photoHash` (injected by avatar-compat).
 */
export const vcardModule: ModuleDefinition = {
  name: "vcard",
  specs: [{ spec: "XEP-0054", version: "1.2" }],
  load(ctx) {
    const host = ctx.host.name;
    const hashes = new Map<string, string | null>();

    const get = async (username: string): Promise<XmlElement | null> => {
      const raw = await ctx.storage.kv.get(host, username, STORE, KEY);
      return raw === null ? null : parseStoredStanza(raw);
    };
    const set = async (username: string, vcard: XmlElement, origin: { by?: string } = {}): Promise<void> => {
      const stored = xml("vCard", { xmlns: NS_VCARD }, ...vcard.children);
      const serialized = stored.toString();
      if (Buffer.byteLength(serialized) > VCARD_MAX_BYTES) {
        throw new StanzaError("modify", "not-acceptable", `A vCard is limited to ${VCARD_MAX_BYTES} bytes`);
      }
      await ctx.storage.kv.set(host, username, STORE, KEY, serialized);
      hashes.set(username, photoOf(stored)?.hash ?? null);
      await ctx.host.events.fire("vcard.updated", { username, vcard: stored, origin });
    };
    const photoHash = async (username: string): Promise<string | null> => {
      const cached = hashes.get(username);
      if (cached !== undefined) return cached;
      const hash = photoOf(await get(username))?.hash ?? null;
      hashes.set(username, hash);
      return hash;
    };

    ctx.provide("vcard", {
      get,
      set,
      photo: async (username) => photoOf(await get(username)),
      photoHash,
      cachedPhotoHash: (username) => hashes.get(username),
      setPhoto: async (username, photo, origin) => {
        const vcard = (await get(username)) ?? xml("vCard", { xmlns: NS_VCARD });
        vcard.removeChildren("PHOTO");
        if (photo) vcard.append(xml("PHOTO", null, xml("TYPE", null, photo.type), xml("BINVAL", null, photo.base64)));
        await set(username, vcard, origin);
      },
    });
    // XEP-0054 §4: servers advertise vcard-temp; the vCards live at the accounts.
    ctx.feature(NS_VCARD);
    ctx.accountFeature(NS_VCARD);

    ctx.iq(
      "get",
      NS_VCARD,
      async (ev) => {
        const own = ev.from.bareString === ev.to.bareString;
        const vcard = own || (await ctx.storage.accounts.exists(host, ev.to.local)) ? await get(ev.to.local) : null;
        if (vcard) return vcard;
        // §3.1: one's own missing vCard is empty; §3.3: someone else's is item-not-found, whether the account
        // exists or not (no directory harvesting).
        if (own) return xml("vCard", { xmlns: NS_VCARD });
        throw new StanzaError("cancel", "item-not-found");
      },
      "bare",
    );

    ctx.iq(
      "set",
      NS_VCARD,
      async (ev) => {
        // §3.2: a user sets only its own vCard.
        if (ev.from.bareString !== ev.to.bareString) throw new StanzaError("auth", "forbidden");
        await set(ev.to.local, ev.stanza.firstElement() as XmlElement);
        return null;
      },
      "bare",
    );

    ctx.on("account.deleted", async ({ username }) => {
      await ctx.storage.kv.delete(host, username, STORE, KEY);
      hashes.delete(username);
    });
  },
};
