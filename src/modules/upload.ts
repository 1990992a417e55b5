import { isIP } from "node:net";
import { StanzaError } from "../core/errors.ts";
import type { StanzaEvent } from "../core/host.ts";
import type { ModuleContext, ModuleDefinition } from "../core/module.ts";
import { errorReply, iqResult } from "../core/stanza.ts";
import { normalizeDomain } from "../jid/jid.ts";
import { acquireUploadBackend, SlotRefused, type UploadBackend } from "../upload/service.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { dataForm } from "../xmpp/data-forms.ts";
import { NS } from "../xmpp/ns.ts";

/** XEP-0363 namespace (version 0.3 and later; what current clients use). */
export const NS_UPLOAD = "urn:xmpp:http:upload:0";

/**
 * XEP-0363 HTTP File Upload. On each user host that is a DNS name, creates the service host
 * `<upload.domain_prefix>.<host>` (listed in the host's disco#items), which hands out slots: a signed PUT URL that
 * expires, and the GET URL the file will have. The HTTP side (`/upload/`), storage and retention are shared by all
 * hosts (src/upload/service.ts).
 */
export const uploadModule: ModuleDefinition = {
  name: "upload",
  specs: [{ spec: "XEP-0363", version: "1.1.0" }],
  async load(ctx) {
    const cfg = ctx.config.upload;
    if (!cfg.enabled) return;
    // An IP address has no subdomains to put the service on.
    if (isIP(ctx.host.name.replace(/^\[|\]$/g, ""))) return;
    const { backend, release } = await acquireUploadBackend(ctx.server);
    ctx.onStop(release);
    const domain = normalizeDomain(`${cfg.domain_prefix}.${ctx.host.name}`);
    await ctx.server.addHost(domain, "service", [uploadServiceModule(backend, ctx.host.name)]);
    const item = { jid: domain, name: "HTTP File Upload" };
    ctx.host.disco.items.push(item);
    ctx.onStop(() => {
      const i = ctx.host.disco.items.indexOf(item);
      if (i >= 0) ctx.host.disco.items.splice(i, 1);
    });
    // An account's files go with it.
    ctx.on("account.deleted", async ({ username }) => {
      await backend.deleteUser({ host: ctx.host.name, username });
    });
  },
};

/** The module of the upload service host; `userHost` is the host whose service it is. */
function uploadServiceModule(backend: UploadBackend, userHost: string): ModuleDefinition {
  return {
    name: "upload-service",
    hostKind: "service",
    specs: [{ spec: "XEP-0363", version: "1.1.0" }],
    load(ctx) {
      ctx.identity({ category: "store", type: "file", name: "HTTP File Upload" });
      ctx.feature(NS_UPLOAD);
      // XEP-0363 §3: the maximum file size, as a XEP-0128 form.
      ctx.discoExtension(
        dataForm("result", {
          formType: NS_UPLOAD,
          fields: [{ var: "max-file-size", values: [String(backend.settings.max_file_size)] }],
        }),
      );
      ctx.iq("get", NS.discoInfo, (ev) => {
        if (ev.stanza.firstElement()?.attrs.node !== undefined) throw new StanzaError("cancel", "item-not-found");
        return serviceInfo(ctx);
      });
      ctx.iq("get", NS.discoItems, () => xml("query", { xmlns: NS.discoItems }));
      ctx.on(`iq-get/host/${NS_UPLOAD}`, async (ev) => {
        await ctx.send(await slotAnswer(ctx, backend, userHost, ev));
        return true;
      });
    },
  };
}

function serviceInfo(ctx: ModuleContext): XmlElement {
  const query = xml("query", { xmlns: NS.discoInfo });
  for (const id of ctx.host.disco.identities) {
    query.append(xml("identity", { category: id.category, type: id.type, name: id.name }));
  }
  for (const f of [NS.discoInfo, NS.discoItems, ...ctx.host.disco.features].sort()) {
    query.append(xml("feature", { var: f }));
  }
  for (const form of ctx.host.disco.extensions) query.append(form.clone());
  return query;
}

/** The result or error for a slot request (XEP-0363 §4, §5). */
async function slotAnswer(
  ctx: ModuleContext,
  backend: UploadBackend,
  userHost: string,
  ev: StanzaEvent,
): Promise<XmlElement> {
  const fail = (
    type: "modify" | "cancel" | "wait",
    condition: ConstructorParameters<typeof StanzaError>[1],
    text: string,
    app?: XmlElement,
  ) => {
    const reply = errorReply(ev.stanza, type, condition, text) as XmlElement;
    if (app) reply.getChild("error")?.append(app);
    return reply;
  };
  const req = ev.stanza.firstElement();
  if (req?.name !== "request") return fail("modify", "bad-request", "Expected <request/>");
  // Only this server's accounts may store files here; quotas are per account.
  if (ev.from.local === "" || !ctx.server.userHost(ev.from.domain)) {
    return fail("cancel", "not-allowed", "Only accounts of this server may upload files");
  }
  const size = req.attrs.size ?? "";
  try {
    const slot = await backend.requestSlot(
      { host: ev.from.domain, username: ev.from.local },
      {
        filename: req.attrs.filename ?? "",
        size: /^\d{1,16}$/.test(size) ? Number(size) : -1,
        contentType: req.attrs["content-type"],
      },
      userHost,
    );
    return iqResult(
      ev.stanza,
      xml("slot", { xmlns: NS_UPLOAD }, xml("put", { url: slot.put }), xml("get", { url: slot.get })),
    );
  } catch (err) {
    if (!(err instanceof SlotRefused)) throw err;
    switch (err.reason) {
      case "bad-request":
        return fail("modify", "bad-request", err.message);
      case "too-large":
        return fail(
          "modify",
          "not-acceptable",
          err.message,
          xml(
            "file-too-large",
            { xmlns: NS_UPLOAD },
            xml("max-file-size", null, String(backend.settings.max_file_size)),
          ),
        );
      case "type":
        return fail("modify", "not-acceptable", err.message);
      case "quota":
        return fail("wait", "resource-constraint", err.message);
      case "no-http":
        return fail("cancel", "service-unavailable", err.message);
    }
  }
}
