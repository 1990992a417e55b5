import { createHash } from "node:crypto";
import type { ModuleDefinition } from "../core/module.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { FORM_TYPE, readFields } from "../xmpp/data-forms.ts";
import { NS } from "../xmpp/ns.ts";

export const CAPS_NODE = "https://hearth.chat";

/**
 * XEP-0115 verification string (§5.1): identities, features and extended forms, each sorted, joined
 * with '<', hashed with SHA-1 and base64-encoded.
 */
export function capsVer(info: XmlElement): string {
  let s = "";
  const ids = info
    .getChildren("identity")
    .map((i) => `${i.attrs.category ?? ""}/${i.attrs.type ?? ""}/${i.attrs["xml:lang"] ?? ""}/${i.attrs.name ?? ""}`)
    .sort();
  for (const id of ids) s += `${id}<`;
  const features = info
    .getChildren("feature")
    .map((f) => f.attrs.var ?? "")
    .sort();
  for (const f of features) s += `${f}<`;
  const forms = info.getChildren("x", NS.dataForms).map((form) => {
    const fields = readFields(form);
    const type = fields.find((f) => f.var === FORM_TYPE)?.values[0] ?? "";
    let fs = `${type}<`;
    const rest = fields.filter((f) => f.var !== FORM_TYPE).sort((a, b) => cmp(a.var, b.var));
    for (const f of rest) {
      fs += `${f.var ?? ""}<`;
      for (const v of [...f.values].sort()) fs += `${v}<`;
    }
    return { type, fs };
  });
  forms.sort((a, b) => cmp(a.type, b.type));
  for (const f of forms) s += f.fs;
  return createHash("sha1").update(s, "utf8").digest("base64");
}

function cmp(a = "", b = ""): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * XEP-0115 for the server itself: a caps element in the stream features (§6.3) so clients learn what
 * the server supports without a disco round trip, and disco#info answers on `node#ver`.
 */
export const capsModule: ModuleDefinition = {
  name: "caps",
  specs: [{ spec: "XEP-0115", version: "1.6.0" }],
  load(ctx) {
    const disco = ctx.service("disco");
    if (!disco) return;
    // Computed on first use: all modules have registered their features by then.
    let ver: string | null = null;
    const currentVer = () => {
      ver ??= capsVer(disco.info());
      return ver;
    };
    disco.addInfoNode((node) => node === `${CAPS_NODE}#${currentVer()}`);
    ctx.streamFeature({
      stage: "post-auth",
      element: () => xml("c", { xmlns: NS.caps, hash: "sha-1", node: CAPS_NODE, ver: currentVer() }),
    });
  },
};
