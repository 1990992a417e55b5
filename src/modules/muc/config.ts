/**
 * Room configuration (XEP-0045 §10.2, the muc#roomconfig form registered in §15.5) and the service-wide limits it is
 * checked against.
 */
import { StanzaError } from "../../core/errors.ts";
import type { XmlElement } from "../../xml/element.ts";
import { dataForm, type FieldSpec, type ParsedForm, parseBoolean } from "../../xmpp/data-forms.ts";
import { MUC_NS, STATUS } from "./ns.ts";
import { isRole, type Role } from "./roles.ts";

/** Who may see occupants' real JIDs (§4.1): semi-anonymous ("moderators") or non-anonymous ("anyone"). */
export type Whois = "moderators" | "anyone";
/** Who may send private messages (XEP-0045 muc#roomconfig_allowpm). */
export type AllowPm = "anyone" | "participants" | "moderators" | "none";

export interface RoomConfig {
  name: string;
  description: string;
  language: string;
  persistent: boolean;
  public: boolean;
  membersOnly: boolean;
  moderated: boolean;
  /** "" when the room is not password-protected. */
  password: string;
  /** Most occupants allowed (owners and admins may still enter a full room, §7.2.10). */
  maxUsers: number;
  whois: Whois;
  /** Messages of discussion history kept for new occupants (§7.2.14). */
  historyLength: number;
  allowPm: AllowPm;
  allowInvites: boolean;
  /** Participants (not only moderators) may change the subject (§8.1). */
  changeSubject: boolean;
  /** Messages go to the room's archive (XEP-0313) and the room says so with status 170. */
  archiving: boolean;
  /** Roles whose presence is broadcast to the room (muc#roomconfig_presencebroadcast). */
  presenceBroadcast: Role[];
}

/** Service-wide bounds and defaults (the `[muc]` config section). */
export interface ServiceLimits {
  maxOccupants: number;
  maxHistory: number;
  defaultHistory: number;
  defaultPersistent: boolean;
  defaultPublic: boolean;
  /** Whether a message archive exists at all (else archiving cannot be turned on). */
  archive: boolean;
}

const WHOIS: readonly Whois[] = ["moderators", "anyone"];
const ALLOW_PM: readonly AllowPm[] = ["anyone", "participants", "moderators", "none"];
const ALL_ROLES: Role[] = ["moderator", "participant", "visitor"];

export function defaultRoomConfig(limits: ServiceLimits): RoomConfig {
  return {
    name: "",
    description: "",
    language: "",
    persistent: limits.defaultPersistent,
    public: limits.defaultPublic,
    membersOnly: false,
    moderated: false,
    password: "",
    maxUsers: limits.maxOccupants,
    whois: "moderators",
    historyLength: Math.min(limits.defaultHistory, limits.maxHistory),
    allowPm: "anyone",
    allowInvites: false,
    changeSubject: false,
    archiving: limits.archive,
    presenceBroadcast: [...ALL_ROLES],
  };
}

/** Reads a stored configuration, filling in keys added since it was saved and re-applying today's limits. */
export function parseStoredConfig(json: string, limits: ServiceLimits): RoomConfig {
  const stored = JSON.parse(json) as Partial<RoomConfig>;
  const config = { ...defaultRoomConfig(limits), ...stored };
  config.maxUsers = Math.min(Math.max(1, config.maxUsers), limits.maxOccupants);
  config.historyLength = Math.min(Math.max(0, config.historyLength), limits.maxHistory);
  if (!limits.archive) config.archiving = false;
  return config;
}

const bool = (v: boolean) => (v ? "1" : "0");

/** Choices offered for muc#roomconfig_maxusers, up to the service limit. */
function maxUsersOptions(limit: number): string[] {
  const steps = [5, 10, 20, 30, 50, 100, 200, 500, 1000, 5000, 10000].filter((n) => n < limit);
  return [...steps, limit].map(String);
}

/** The configuration form an owner gets (§10.1.3 / §10.2), filled with the current values. */
export function configForm(room: { jid: string; config: RoomConfig }, limits: ServiceLimits): XmlElement {
  const c = room.config;
  const fields: FieldSpec[] = [
    { var: "muc#roomconfig_roomname", type: "text-single", label: "Title", values: [c.name] },
    { var: "muc#roomconfig_roomdesc", type: "text-single", label: "Description", values: [c.description] },
    { var: "muc#roomconfig_lang", type: "text-single", label: "Language of the discussion", values: [c.language] },
    {
      var: "muc#roomconfig_persistentroom",
      type: "boolean",
      label: "Keep the room when it is empty",
      values: [bool(c.persistent)],
    },
    {
      var: "muc#roomconfig_publicroom",
      type: "boolean",
      label: "List the room in the public directory",
      values: [bool(c.public)],
    },
    {
      var: "muc#roomconfig_membersonly",
      type: "boolean",
      label: "Only members may enter",
      values: [bool(c.membersOnly)],
    },
    {
      var: "muc#roomconfig_moderatedroom",
      type: "boolean",
      label: "Only participants with voice may speak",
      values: [bool(c.moderated)],
    },
    {
      var: "muc#roomconfig_passwordprotectedroom",
      type: "boolean",
      label: "A password is required to enter",
      values: [bool(c.password !== "")],
    },
    { var: "muc#roomconfig_roomsecret", type: "text-private", label: "Password", values: [c.password] },
    {
      var: "muc#roomconfig_maxusers",
      type: "list-single",
      label: "Maximum number of occupants",
      values: [String(c.maxUsers)],
      options: maxUsersOptions(limits.maxOccupants).map((value) => ({ value })),
    },
    {
      var: "muc#roomconfig_whois",
      type: "list-single",
      label: "Who may discover occupants' real addresses",
      values: [c.whois],
      options: [
        { value: "moderators", label: "Moderators only" },
        { value: "anyone", label: "Anyone" },
      ],
    },
    {
      var: "muc#maxhistoryfetch",
      type: "text-single",
      label: `Messages of history sent to new occupants (0 to ${limits.maxHistory})`,
      values: [String(c.historyLength)],
    },
    {
      var: "muc#roomconfig_allowpm",
      type: "list-single",
      label: "Who may send private messages",
      values: [c.allowPm],
      options: [
        { value: "anyone", label: "Anyone" },
        { value: "participants", label: "Participants and moderators" },
        { value: "moderators", label: "Moderators only" },
        { value: "none", label: "Nobody" },
      ],
    },
    {
      var: "muc#roomconfig_allowinvites",
      type: "boolean",
      label: "Occupants may invite others",
      values: [bool(c.allowInvites)],
    },
    {
      var: "muc#roomconfig_changesubject",
      type: "boolean",
      label: "Occupants may change the subject",
      values: [bool(c.changeSubject)],
    },
    {
      var: "muc#roomconfig_presencebroadcast",
      type: "list-multi",
      label: "Roles whose presence is broadcast",
      values: c.presenceBroadcast,
      options: ALL_ROLES.map((value) => ({ value })),
    },
  ];
  if (limits.archive) {
    fields.push({
      var: "muc#roomconfig_enablearchiving",
      type: "boolean",
      label: "Archive messages (message history for members)",
      values: [bool(c.archiving)],
    });
  }
  return dataForm("form", {
    formType: MUC_NS.roomconfig,
    title: `Configuration of ${room.jid}`,
    instructions: "Your room is locked until you submit this form (submit it unchanged for an instant room).",
    fields,
  });
}

function invalid(field: string): StanzaError {
  return new StanzaError("modify", "not-acceptable", `Invalid value for ${field}`);
}

/**
 * Applies a submitted configuration form to `current` and returns the new configuration. Fields not in the
 * form keep their value (an empty form creates an instant room, §10.1.2). Unacceptable values are refused with
 * not-acceptable (§10.2).
 */
export function applyConfigForm(current: RoomConfig, form: ParsedForm, limits: ServiceLimits): RoomConfig {
  const next: RoomConfig = { ...current, presenceBroadcast: [...current.presenceBroadcast] };
  const one = (v: string): string | undefined => form.values.get(v)?.[0];
  const text = (v: string, set: (s: string) => void) => {
    const s = form.values.get(v);
    if (s !== undefined) set(s.join("\n"));
  };
  const flag = (v: string, set: (b: boolean) => void) => {
    const s = one(v);
    if (s === undefined) return;
    const b = parseBoolean(s);
    if (b === undefined) throw invalid(v);
    set(b);
  };
  text("muc#roomconfig_roomname", (s) => {
    next.name = s;
  });
  text("muc#roomconfig_roomdesc", (s) => {
    next.description = s;
  });
  text("muc#roomconfig_lang", (s) => {
    next.language = s;
  });
  flag("muc#roomconfig_persistentroom", (b) => {
    next.persistent = b;
  });
  flag("muc#roomconfig_publicroom", (b) => {
    next.public = b;
  });
  flag("muc#roomconfig_membersonly", (b) => {
    next.membersOnly = b;
  });
  flag("muc#roomconfig_moderatedroom", (b) => {
    next.moderated = b;
  });
  flag("muc#roomconfig_allowinvites", (b) => {
    next.allowInvites = b;
  });
  flag("muc#roomconfig_changesubject", (b) => {
    next.changeSubject = b;
  });
  flag("muc#roomconfig_enablearchiving", (b) => {
    if (b && !limits.archive) throw invalid("muc#roomconfig_enablearchiving");
    next.archiving = b;
  });

  // Password: the secret alone turns protection on (clients often send only it); the flag alone cannot.
  const secret = form.values.get("muc#roomconfig_roomsecret");
  if (secret !== undefined) next.password = secret.join("");
  const protectedFlag = one("muc#roomconfig_passwordprotectedroom");
  if (protectedFlag !== undefined) {
    const b = parseBoolean(protectedFlag);
    if (b === undefined) throw invalid("muc#roomconfig_passwordprotectedroom");
    if (!b) next.password = "";
    else if (next.password === "") {
      throw new StanzaError("modify", "not-acceptable", "A password-protected room needs a password");
    }
  }

  const maxUsers = one("muc#roomconfig_maxusers");
  if (maxUsers !== undefined) {
    if (maxUsers === "none" || maxUsers === "") next.maxUsers = limits.maxOccupants;
    else {
      const n = Number(maxUsers);
      if (!Number.isInteger(n) || n < 1 || n > limits.maxOccupants) throw invalid("muc#roomconfig_maxusers");
      next.maxUsers = n;
    }
  }
  const whois = one("muc#roomconfig_whois");
  if (whois !== undefined) {
    if (!(WHOIS as readonly string[]).includes(whois)) throw invalid("muc#roomconfig_whois");
    next.whois = whois as Whois;
  }
  // COMPAT: Prosody's clients send muc#roomconfig_historylength; the registry name is muc#maxhistoryfetch.
  const history = one("muc#maxhistoryfetch") ?? one("muc#roomconfig_historylength");
  if (history !== undefined && history !== "") {
    const n = Number(history);
    if (!Number.isInteger(n) || n < 0) throw invalid("muc#maxhistoryfetch");
    next.historyLength = Math.min(n, limits.maxHistory);
  }
  const allowPm = one("muc#roomconfig_allowpm");
  if (allowPm !== undefined) {
    // Older forms had a boolean here.
    const b = parseBoolean(allowPm);
    if (b !== undefined) next.allowPm = b ? "anyone" : "none";
    else if ((ALLOW_PM as readonly string[]).includes(allowPm)) next.allowPm = allowPm as AllowPm;
    else throw invalid("muc#roomconfig_allowpm");
  }
  const broadcast = form.values.get("muc#roomconfig_presencebroadcast");
  if (broadcast !== undefined) {
    const wanted = new Set<string>(broadcast);
    if (![...wanted].every((r) => isRole(r) && r !== "none")) throw invalid("muc#roomconfig_presencebroadcast");
    next.presenceBroadcast = ALL_ROLES.filter((r) => wanted.has(r));
  }
  return next;
}

/**
 * Status codes of the message that tells occupants the configuration changed (§10.2.1): 104 always, plus the
 * privacy-related ones (170/171 archiving, 172/173 anonymity).
 */
export function configChangeCodes(before: RoomConfig, after: RoomConfig): string[] {
  const codes: string[] = [STATUS.configChanged];
  if (before.archiving !== after.archiving) codes.push(after.archiving ? STATUS.logging : STATUS.notLogging);
  if (before.whois !== after.whois)
    codes.push(after.whois === "anyone" ? STATUS.nowNonAnonymous : STATUS.nowSemiAnonymous);
  return codes;
}
