import type { ModuleDefinition } from "../core/module.ts";
import { acquireWebPages } from "../web/pages.ts";

/**
 * The built-in web pages (src/web/): the invite landing page at `/invite/<token>` and the admin page at
 * `/admin`, switched by `web.invite_page` and `web.admin_page`. Each user host registers its `invites` and
 * `accounts` services with the pages, which are mounted once per server.
 */
export const webModule: ModuleDefinition = {
  name: "web",
  load(ctx) {
    const { pages, release } = acquireWebPages(ctx.server);
    pages.hosts.set(ctx.host.name, { invites: ctx.service("invites"), accounts: ctx.service("accounts") });
    ctx.onStop(() => {
      pages.hosts.delete(ctx.host.name);
      release();
    });
  },
};
