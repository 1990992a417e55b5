import { chat, chatMam } from "./chat.ts";
import { idle } from "./idle.ts";
import { login } from "./login.ts";
import { muc } from "./muc.ts";
import { presence } from "./presence.ts";
import type { Scenario } from "./types.ts";

/** All scenarios by name, in the order `all` runs them. */
export const SCENARIOS: Record<string, Scenario> = {
  login,
  idle,
  chat,
  "chat+mam": chatMam,
  presence,
  muc,
};
