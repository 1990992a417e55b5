import { ejabberd } from "./ejabberd.ts";
import { hearth } from "./hearth.ts";
import { prosody } from "./prosody.ts";
import type { Peer } from "./types.ts";

/** Servers the bench knows how to start, by name. */
export const PEERS: Record<string, Peer> = { hearth, prosody, ejabberd };
