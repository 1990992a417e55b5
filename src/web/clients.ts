/** XMPP apps the invite page suggests, per platform. Links go to each project's own site. */
export interface ClientSuggestion {
  name: string;
  url: string;
  /** A few words on why this one. */
  note: string;
}

export type Platform = "android" | "ios" | "desktop" | "web";

export interface PlatformClients {
  platform: Platform;
  title: string;
  clients: ClientSuggestion[];
}

export const CLIENTS: readonly PlatformClients[] = [
  {
    platform: "android",
    title: "Android",
    clients: [
      { name: "Conversations", url: "https://conversations.im/", note: "understands invitations" },
      { name: "Cheogram", url: "https://cheogram.com/", note: "Conversations with extras" },
    ],
  },
  {
    platform: "ios",
    title: "iPhone and iPad",
    clients: [
      { name: "Monal", url: "https://monal-im.org/", note: "understands invitations; also on macOS" },
      { name: "Siskin IM", url: "https://siskin.im/", note: "by Tigase" },
    ],
  },
  {
    platform: "desktop",
    title: "Computer",
    clients: [
      { name: "Gajim", url: "https://gajim.org/", note: "Windows and Linux" },
      { name: "Dino", url: "https://dino.im/", note: "Linux" },
    ],
  },
  {
    platform: "web",
    title: "Web browser",
    clients: [
      { name: "Converse.js", url: "https://conversejs.org/", note: "runs in the browser" },
      { name: "Movim", url: "https://movim.eu/", note: "social features" },
    ],
  },
];

/** A guess at the visitor's platform from the User-Agent, to show its apps first. */
export function platformOf(userAgent: string | undefined): Platform {
  const ua = userAgent ?? "";
  if (/android/i.test(ua)) return "android";
  if (/iphone|ipad|ipod/i.test(ua)) return "ios";
  return "desktop";
}
