import type { ModuleDefinition } from "../core/module.ts";
import { accountsModule } from "./accounts.ts";
import { adhocModule } from "./adhoc.ts";
import { adminCommandsModule } from "./admin-commands.ts";
import { avatarCompatModule } from "./avatar-compat.ts";
import { blockingModule } from "./blocking.ts";
import { bookmarksModule } from "./bookmarks.ts";
import { capsModule } from "./caps.ts";
import { carbonsModule } from "./carbons.ts";
import { contactAddressesModule } from "./contact-addresses.ts";
import { csiModule } from "./csi.ts";
import { discoModule } from "./disco.ts";
import { externalServicesModule } from "./external-services.ts";
import { invitesModule } from "./invites.ts";
import { lastActivityModule } from "./last-activity.ts";
import { mamModule } from "./mam.ts";
import { messageModule } from "./message.ts";
import { mucModule } from "./muc.ts";
import { offlineModule } from "./offline.ts";
import { pepModule } from "./pep.ts";
import { pingModule } from "./ping.ts";
import { presenceModule } from "./presence.ts";
import { privateStorageModule } from "./private-storage.ts";
import { entityCapsModule } from "./pubsub/entity-caps.ts";
import { pushModule } from "./push.ts";
import { registerModule } from "./register.ts";
import { rosterModule } from "./roster.ts";
import { spamReportingModule } from "./spam-reporting.ts";
import { streamManagementModule } from "./stream-management.ts";
import { timeModule } from "./time.ts";
import { uploadModule } from "./upload.ts";
import { vcardModule } from "./vcard.ts";
import { vcard4Module } from "./vcard4.ts";
import { versionModule } from "./version.ts";
import { webModule } from "./web.ts";

/** Every built-in module, in load order. Modules that provide services load before their users. */
export const builtinModules: ModuleDefinition[] = [
  discoModule,
  pingModule,
  versionModule,
  timeModule,
  lastActivityModule,
  contactAddressesModule,
  // RFC 6121 IM core: roster first (it provides the roster service presence needs).
  rosterModule,
  presenceModule,
  messageModule,
  offlineModule,
  // Multi-device and mobile (XEP-0280, XEP-0198, XEP-0352, XEP-0357): after message and offline, whose rules they extend.
  carbonsModule,
  streamManagementModule,
  csiModule,
  pushModule,
  // History (XEP-0313): provides the `archive` service that MUC rooms use too.
  mamModule,
  // Blocking (XEP-0191) filters at priority 1000 whatever the load order; reports (XEP-0377) ride on blocks.
  blockingModule,
  spamReportingModule,
  // Personal data: entity caps (for +notify) before PEP, PEP before the modules that store data in it.
  entityCapsModule,
  pepModule,
  privateStorageModule,
  bookmarksModule,
  vcardModule,
  vcard4Module,
  avatarCompatModule,
  // Group chat (XEP-0045): creates the conference.<host> service host; uses the `archive` service of MAM.
  mucModule,
  // HTTP File Upload (XEP-0363): creates the upload.<host> service host and mounts /upload/.
  uploadModule,
  // Accounts: the lifecycle service (create, re-password, delete with all data), the ad-hoc command framework
  // (XEP-0050), invitations (XEP-0401/0379), registration (XEP-0077/0445) and admin commands (XEP-0133).
  accountsModule,
  adhocModule,
  invitesModule,
  registerModule,
  adminCommandsModule,
  // Calls: STUN/TURN servers with TURN credentials (XEP-0215).
  externalServicesModule,
  // Web pages (/invite/<token>, /admin): after invites and accounts, whose services they use.
  webModule,
  // Last: computes its hash over the features every other module registered.
  capsModule,
];
