import type { XmlElement } from "../../xml/element.ts";

/** XEP-0198 §4: sequence numbers are unsigned 32-bit and wrap to 0 after 2^32 - 1. */
const H_MOD = 2 ** 32;

/** The next sequence number after `h`. */
export function nextH(h: number): number {
  return (h + 1) % H_MOD;
}

/** Parses an 'h' attribute: a decimal integer from 0 to 2^32 - 1, else null. */
export function parseH(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return null;
  const h = Number(value);
  return h < H_MOD ? h : null;
}

/** A stanza sent to the client and not acknowledged yet. */
export interface Unacked {
  stanza: XmlElement;
  /** When it was sent (or queued while hibernating), ms since the epoch: the XEP-0203 stamp if it is resent. */
  queuedAt: number;
  /** A delay stamp was already added (so a second resend does not add another). */
  stamped: boolean;
}

/**
 * The outbound side of a stream management session: stanzas sent and not yet acknowledged, in order, and the
 * client's last acknowledged count. The count of stanzas sent is `acked + length` (modulo 2^32).
 */
export class UnackedQueue {
  private items: Unacked[] = [];
  /** The 'h' the client last acknowledged. */
  acked = 0;

  get length(): number {
    return this.items.length;
  }

  /** Sequence number of the last stanza sent. */
  get sent(): number {
    return (this.acked + this.items.length) % H_MOD;
  }

  push(stanza: XmlElement, now = Date.now()): void {
    this.items.push({ stanza, queuedAt: now, stamped: false });
  }

  /** How many stanzas an ack of `h` releases, or null if it acknowledges more than was sent. */
  released(h: number): number | null {
    const n = (h - this.acked + H_MOD) % H_MOD;
    return n <= this.items.length ? n : null;
  }

  /** Applies an ack (XEP-0198 §4). Returns false, changing nothing, if `h` acknowledges more than was sent. */
  ack(h: number): boolean {
    const n = this.released(h);
    if (n === null) return false;
    this.items.splice(0, n);
    this.acked = h;
    return true;
  }

  /** The unacknowledged stanzas, oldest first. */
  entries(): readonly Unacked[] {
    return this.items;
  }

  /** Removes and returns every unacknowledged stanza. */
  takeAll(): Unacked[] {
    return this.items.splice(0);
  }
}
