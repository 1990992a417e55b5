/** Discussion history sent to new occupants (XEP-0045 §7.2.14) and how a client limits it (§7.2.15 `<history/>`). */
import type { XmlElement } from "../../xml/element.ts";

export interface HistoryEntry {
  /** The message as the room broadcast it (from the nick JID, with stanza-id and occupant-id; no `to`). */
  stanza: XmlElement;
  /** When the room received it, ms since the epoch. */
  at: number;
  /** XEP-0359 stanza-id the room gave it. */
  id: string;
  /** The author's real bare JID. */
  author: string;
  /** Characters of the serialized stanza, for `maxchars`. */
  chars: number;
  /** Position in the room's whole history since it was loaded (set by `push`). */
  seq?: number;
}

/** What a joining client asked for; absent values mean "no limit from the client". */
export interface HistoryRequest {
  maxstanzas?: number;
  maxchars?: number;
  seconds?: number;
  /** ms since the epoch */
  since?: number;
}

function nonNegativeInt(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Reads the `<history/>` element of a join request; unparsable attributes are ignored (§7.2.15). */
export function parseHistoryRequest(el: XmlElement | undefined): HistoryRequest {
  if (!el) return {};
  const since = el.attrs.since !== undefined ? Date.parse(el.attrs.since) : Number.NaN;
  return {
    maxstanzas: nonNegativeInt(el.attrs.maxstanzas),
    maxchars: nonNegativeInt(el.attrs.maxchars),
    seconds: nonNegativeInt(el.attrs.seconds),
    since: Number.isNaN(since) ? undefined : since,
  };
}

/** The last messages of a room, at most `limit` of them. */
export class RoomHistory {
  private items: HistoryEntry[] = [];
  private pushed = 0;

  constructor(private limit: number) {}

  setLimit(limit: number): void {
    this.limit = limit;
    if (this.items.length > limit) this.items = this.items.slice(this.items.length - limit);
  }

  push(entry: HistoryEntry): void {
    entry.seq = ++this.pushed;
    if (this.limit <= 0) return;
    this.items.push(entry);
    if (this.items.length > this.limit) this.items.shift();
  }

  /** Replaces the stanza of an entry (a retraction tombstone); returns whether it was there. */
  replace(id: string, stanza: XmlElement): boolean {
    const e = this.items.find((i) => i.id === id);
    if (!e) return false;
    e.stanza = stanza;
    e.chars = stanza.toString().length;
    return true;
  }

  find(id: string): HistoryEntry | undefined {
    return this.items.find((i) => i.id === id);
  }

  /** Sequence number of the newest entry pushed so far. */
  get mark(): number {
    return this.pushed;
  }

  /** Entries pushed after `mark`, oldest first (those still kept). */
  after(mark: number): HistoryEntry[] {
    return this.items.filter((i) => (i.seq ?? 0) > mark);
  }

  get size(): number {
    return this.items.length;
  }

  /**
   * The entries to send for a request (§7.2.15): within `seconds` / `since`, then at most `maxstanzas` of the
   * newest, then as many of the newest as fit in `maxchars`. All limits apply together.
   */
  select(req: HistoryRequest, now = Date.now()): HistoryEntry[] {
    let from = 0;
    const after = Math.max(
      req.seconds !== undefined ? now - req.seconds * 1000 : Number.NEGATIVE_INFINITY,
      req.since ?? Number.NEGATIVE_INFINITY,
    );
    while (from < this.items.length && (this.items[from] as HistoryEntry).at < after) from++;
    if (req.maxstanzas !== undefined) from = Math.max(from, this.items.length - req.maxstanzas);
    if (req.maxchars !== undefined) {
      let budget = req.maxchars;
      let i = this.items.length;
      while (i > from && (this.items[i - 1] as HistoryEntry).chars <= budget) {
        budget -= (this.items[i - 1] as HistoryEntry).chars;
        i--;
      }
      from = i;
    }
    return this.items.slice(from);
  }
}
