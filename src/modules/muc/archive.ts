/**
 * The room side of message archives (XEP-0313 on the room JID): appending what the room broadcasts, restoring
 * the discussion history after a restart, tombstones for retractions. Queries are answered by the MAM module's
 * `archive` service (muc/mam.ts).
 */
import type { ArchiveRef, ArchiveStore } from "../../storage/archive.ts";
import type { Storage } from "../../storage/types.ts";
import { parseDocument } from "../../xml/document.ts";
import type { XmlElement } from "../../xml/element.ts";
import type { HistoryEntry } from "./history.ts";

// Archived stanzas passed the stream limits when they arrived; these bounds only guard against a damaged store.
const LIMITS = { maxStanzaBytes: 16 * 1024 * 1024, maxDepth: 1000 };

/** Parses an archived stanza; null if the stored text is damaged. */
export function parseArchived(s: string): XmlElement | null {
  try {
    return parseDocument(s, LIMITS);
  } catch {
    return null;
  }
}

/** Rooms' archives on one MUC service host. */
export class RoomArchive {
  readonly store: ArchiveStore;

  constructor(
    storage: Storage,
    private readonly host: string,
  ) {
    this.store = storage.archive;
  }

  ref(room: string): ArchiveRef {
    return { host: this.host, owner: room, kind: "room" };
  }

  async append(room: string, entry: { id: string; at: number; author: string; stanza: XmlElement }): Promise<void> {
    await this.store.append(this.ref(room), {
      id: entry.id,
      timestamp: entry.at,
      with: entry.author,
      stanza: entry.stanza.toString(),
    });
  }

  /** The newest `n` archived messages with a body, oldest first: the history to restore after a restart. */
  async recent(room: string, n: number): Promise<HistoryEntry[]> {
    if (n <= 0) return [];
    // Retractions and other body-less entries are archived too; read a little more to still find n messages.
    const page = await this.store.query(this.ref(room), { limit: n * 2, fromEnd: true });
    const out: HistoryEntry[] = [];
    for (const e of page.entries) {
      const stanza = parseArchived(e.stanza);
      if (!stanza?.getChild("body")) continue;
      out.push({ stanza, at: e.timestamp, id: e.id, author: e.with, chars: e.stanza.length });
    }
    return out.slice(-n);
  }

  async get(room: string, id: string): Promise<{ stanza: XmlElement; author: string; at: number } | null> {
    const e = await this.store.get(this.ref(room), id);
    if (!e) return null;
    const stanza = parseArchived(e.stanza);
    return stanza ? { stanza, author: e.with, at: e.timestamp } : null;
  }

  async replace(room: string, id: string, stanza: XmlElement): Promise<boolean> {
    return this.store.replace(this.ref(room), id, stanza.toString());
  }

  async remove(room: string): Promise<void> {
    await this.store.deleteArchive(this.ref(room));
  }
}
