/**
 * XEP-0398: one avatar, two forms. A XEP-0084 avatar published to PEP becomes the vCard's PHOTO (§3.1); a vCard
 * PHOTO becomes the PEP data and metadata items (§3.2); and every available presence a client sends carries the
 * XEP-0153 hash of the current avatar (§4). Conversions compare hashes first and mark what they publish with
 * `origin.by = "avatar"`, so a conversion never triggers the reverse one.
 */
import { createHash } from "node:crypto";
import type { OutgoingEvent } from "../core/host.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { KeyedLock } from "./im/keyed-lock.ts";
import { pubsubErrors } from "./pubsub/errors.ts";

export const NS_AVATAR_DATA = "urn:xmpp:avatar:data";
export const NS_AVATAR_METADATA = "urn:xmpp:avatar:metadata";
export const NS_VCARD_UPDATE = "vcard-temp:x:update";
export const NS_CONVERSION = "urn:xmpp:pep-vcard-conversion:0";
const ORIGIN = { by: "avatar" };

/** The `<info/>` of a metadata item that describes an image stored in PEP (not at a URL, §3.1). */
function storedInfo(metadata: XmlElement | null): XmlElement | undefined {
  return metadata?.getChildren("info").find((i) => i.attrs.url === undefined && i.attrs.id);
}

/**
 * XEP-0153 §4.1 as XEP-0398 §4 requires it of the server: available presence gets `<photo>hash</photo>` unless the
 * client says it has no avatar yet (an empty `<photo/>`); an `<x/>` without a photo is filled in; a different hash
 * is replaced by the one of the stored vCard.
 */
export function injectPhotoHash(presence: XmlElement, hash: string | null): void {
  const x = presence.getChild("x", NS_VCARD_UPDATE);
  const photo = x?.getChild("photo");
  if (photo && photo.text() === "") return;
  const value = hash ?? "";
  if (photo && photo.text() === value) return;
  presence.removeChildren("x", NS_VCARD_UPDATE);
  presence.append(xml("x", { xmlns: NS_VCARD_UPDATE }, xml("photo", null, value || undefined)));
}

/** XEP-0398 User Avatar to vCard-Based Avatars Conversion, with XEP-0153 presence hashes. Needs pep and vcard. */
export const avatarCompatModule: ModuleDefinition = {
  name: "avatar-compat",
  specs: [
    { spec: "XEP-0398", version: "0.2.1" },
    { spec: "XEP-0084", version: "1.1.4", note: "payload checks; storage is plain PEP" },
    { spec: "XEP-0153", version: "1.1", note: "the server adds the photo hash to presence (XEP-0398 §4)" },
  ],
  load(ctx) {
    const pep = ctx.service("pep");
    const vcard = ctx.service("vcard");
    if (!pep || !vcard) throw new Error("the avatar-compat module needs the pep and vcard modules");
    const lock = new KeyedLock();
    ctx.accountFeature(NS_CONVERSION);

    pep.addPolicy(NS_AVATAR_DATA, {
      validate(payload) {
        if (payload.name !== "data" || payload.attrs.xmlns !== NS_AVATAR_DATA) {
          throw pubsubErrors.invalidPayload("Avatar data is a <data xmlns='urn:xmpp:avatar:data'/>");
        }
      },
    });
    pep.addPolicy(NS_AVATAR_METADATA, {
      validate(payload) {
        if (payload.name !== "metadata" || payload.attrs.xmlns !== NS_AVATAR_METADATA) {
          throw pubsubErrors.invalidPayload("Avatar metadata is a <metadata xmlns='urn:xmpp:avatar:metadata'/>");
        }
      },
    });

    const currentMetadata = async (username: string): Promise<XmlElement | null> =>
      (await pep.items(username, NS_AVATAR_METADATA, { max: 1 }))[0]?.payload ?? null;

    /** §3.1: the metadata points at an image in the data node; it becomes the vCard PHOTO. */
    const pepToVcard = async (username: string): Promise<void> => {
      const info = storedInfo(await currentMetadata(username));
      const current = await vcard.photoHash(username);
      if (!info) {
        // An empty metadata item means "no avatar" (XEP-0084 §4.5).
        if (current !== null) await vcard.setPhoto(username, null, ORIGIN);
        return;
      }
      const id = info.attrs.id as string;
      if (current === id) return;
      const [data] = await pep.items(username, NS_AVATAR_DATA, { ids: [id] });
      const base64 = data?.payload?.text().replace(/\s+/g, "");
      if (!base64) return; // The data is not published yet; its own publication completes the conversion.
      // §3.1: the id is the SHA-1 of the image; a mismatch would advertise a hash nobody can verify.
      const hash = createHash("sha1").update(Buffer.from(base64, "base64")).digest("hex");
      if (hash !== id) {
        ctx.log.info({ user: username, id }, "avatar id is not the SHA-1 of its data; not copied to the vCard");
        return;
      }
      await vcard.setPhoto(username, { type: info.attrs.type ?? "image/png", base64 }, ORIGIN);
    };

    /** §3.2: the vCard's PHOTO is published as avatar data and metadata. */
    const vcardToPep = async (username: string): Promise<void> => {
      const photo = await vcard.photo(username);
      const info = storedInfo(await currentMetadata(username));
      if (!photo) {
        if (info) {
          await pep.publish(
            username,
            NS_AVATAR_METADATA,
            { payload: xml("metadata", { xmlns: NS_AVATAR_METADATA }) },
            ORIGIN,
          );
        }
        return;
      }
      if (info?.attrs.id === photo.hash) return;
      const bytes = Buffer.from(photo.base64, "base64").length;
      await pep.publish(
        username,
        NS_AVATAR_DATA,
        { id: photo.hash, payload: xml("data", { xmlns: NS_AVATAR_DATA }, photo.base64) },
        ORIGIN,
      );
      await pep.publish(
        username,
        NS_AVATAR_METADATA,
        {
          id: photo.hash,
          payload: xml(
            "metadata",
            { xmlns: NS_AVATAR_METADATA },
            xml("info", { id: photo.hash, bytes: String(bytes), type: photo.type }),
          ),
        },
        ORIGIN,
      );
    };

    ctx.on("pep.published", async ({ username, node, origin }) => {
      if (origin.by === ORIGIN.by) return;
      if (node === NS_AVATAR_METADATA || node === NS_AVATAR_DATA) {
        await lock.run(username, () => pepToVcard(username));
      }
    });
    ctx.on("vcard.updated", async ({ username, origin }) => {
      if (origin.by === ORIGIN.by) return;
      await lock.run(username, () => vcardToPep(username));
    });

    // §4: the hash goes into every available presence, directed ones (MUC joins) included; before the presence
    // module (priority 0) broadcasts it. The hash is read when a session binds, so that presence does not wait for
    // storage here (waiting would let a later presence from another client overtake this one).
    ctx.on("c2s.session.bound", async ({ session }) => {
      await vcard.photoHash(session.username);
    });
    ctx.on(
      "pre-presence",
      (ev: OutgoingEvent) => {
        if (ev.stanza.attrs.type !== undefined) return;
        const hash = vcard.cachedPhotoHash(ev.session.username);
        if (hash !== undefined) {
          injectPhotoHash(ev.stanza, hash);
          return;
        }
        return vcard.photoHash(ev.session.username).then((h) => {
          injectPhotoHash(ev.stanza, h);
          return undefined;
        });
      },
      50,
    );
  },
};
