import type { FilterHandle, StanzaFilter } from "../core/session.ts";
import type { XmlElement } from "../xml/element.ts";

interface Entry {
  filter: StanzaFilter;
  priority: number;
}

/**
 * An ordered list of stanza filters ending in a sink (the wire, or stanza processing). Filters run from the
 * highest priority down; one that returns null takes the stanza out of the flow and may pass it on later with
 * its handle's `passOn`, which resumes the chain just below it.
 */
export class FilterChain {
  private readonly entries: Entry[] = [];

  constructor(private readonly sink: (stanza: XmlElement) => void) {}

  /** True when no filter is registered (the hot path skips the chain). */
  get empty(): boolean {
    return this.entries.length === 0;
  }

  add(filter: StanzaFilter, priority = 0): FilterHandle {
    const entry: Entry = { filter, priority };
    let i = this.entries.length;
    while (i > 0 && (this.entries[i - 1] as Entry).priority < priority) i--;
    this.entries.splice(i, 0, entry);
    return {
      remove: () => {
        const idx = this.entries.indexOf(entry);
        if (idx >= 0) this.entries.splice(idx, 1);
      },
      passOn: (stanza) => {
        const idx = this.entries.indexOf(entry);
        // A removed filter's leftovers still go to the client, through every filter.
        this.push(stanza, idx < 0 ? 0 : idx + 1);
      },
    };
  }

  /** Runs a stanza through the filters from position `from` and hands what is left to the sink. */
  push(stanza: XmlElement, from = 0): void {
    const out = this.run(stanza, from);
    if (out) this.sink(out);
  }

  /** Runs the filters only; returns what is left of the stanza, or null if a filter took it. */
  run(stanza: XmlElement, from = 0): XmlElement | null {
    let s: XmlElement | null = stanza;
    for (let i = from; s && i < this.entries.length; i++) s = (this.entries[i] as Entry).filter(s);
    return s;
  }
}
