import { isUtf8 } from "node:buffer";
import {
  ATTR_CLASS,
  isSpace,
  isXmlChar,
  isXmlName,
  N_COLON,
  N_HIGH,
  N_START,
  NAME_CLASS,
  qnameColon,
  T_AMP,
  T_BAD,
  T_CR,
  T_EF,
  T_GT,
  T_HIGH,
  T_LT,
  T_PLAIN,
  T_QUOTE,
  T_WS,
  TEXT_CLASS,
} from "./chars.ts";
import { internName, latin1, nameHash, utf8 } from "./decode.ts";
import { type XmlAttrs, XmlElement } from "./element.ts";
import { type XmlErrorCondition, XmlParseError } from "./errors.ts";
import { completeEnd, firstInvalidUtf8 } from "./utf8.ts";

/** Resource limits enforced while parsing (advertise them, e.g. XEP-0478, and make them configurable). */
export interface XmlLimits {
  /** Max bytes of one stanza (from its '<' to the end of its end tag); also caps the stream header. */
  maxStanzaBytes: number;
  /** Max element nesting depth inside a stanza (the stanza itself is depth 1). */
  maxDepth: number;
}

/** Receives parse events. Methods are called synchronously from `write()`, in document order. */
export interface StreamHandler {
  /** The stream header (root start tag), e.g. name "stream:stream", attributes verbatim. */
  onStreamStart(name: string, attrs: Record<string, string>): void;
  /** Each complete depth-1 child of the stream root. */
  onStanza(el: XmlElement): void;
  /** The root end tag (`</stream:stream>`). */
  onStreamEnd(): void;
  /** Called at most once; the parser then ignores all further input. */
  onError(err: XmlParseError): void;
}

/** `stream`: an XMPP stream (header, stanzas, close). `document`: one element, as used by parseDocument(). */
export type XmlParseMode = "stream" | "document";

/** Attribute cap per element: no XMPP element needs more, and each costs a hash-map entry. */
export const MAX_ATTRIBUTES = 100;

const XML_NS = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";
const EMPTY = Buffer.alloc(0);
/** A retained partial token above this size gets a fresh scratch buffer once the token is done. */
const SCRATCH_KEEP = 16 * 1024;

// Parser states. The token states (MARKUP..DECL) keep `pos` at the token's first byte so it is retained
// across writes, and `scan` where the resumable scan for the token's end stopped.
/** Very start of a stream: optional BOM and XML declaration. */
const S_START = 0;
/** Before the root element: whitespace only. */
const S_PROLOG = 1;
/** Stream mode, inside the root, between stanzas: whitespace keepalives only. */
const S_STREAM = 2;
/** Character data inside an element. */
const S_CONTENT = 3;
/** At a '<', deciding what follows. */
const S_MARKUP = 4;
const S_START_TAG = 5;
const S_END_TAG = 6;
const S_CDATA = 7;
/** An entity or character reference in content. */
const S_REF = 8;
const S_DECL = 9;
/** After the root element: whitespace only. */
const S_EPILOG = 10;

// Flags describing a run of bytes being decoded.
const F_HIGH = 1;
const F_CR = 2;
/** Attribute value with literal whitespace to normalize. */
const F_WS = 4;
/** Attribute value containing a reference. */
const F_PREFIX = 8;

// Attributes of the start tag being parsed (parseStartTag is never re-entered).
const ATTR_NAMES: string[] = [];
const VALUE_START = new Int32Array(MAX_ATTRIBUTES);
const VALUE_END = new Int32Array(MAX_ATTRIBUTES);
const VALUE_FLAGS = new Uint8Array(MAX_ATTRIBUTES);
const VALUE_PREFIX: (string | undefined)[] = [];

const CDATA_OPEN = [0x3c, 0x21, 0x5b, 0x43, 0x44, 0x41, 0x54, 0x41, 0x5b]; // <![CDATA[
const XML_DECL_OPEN = [0x3c, 0x3f, 0x78, 0x6d, 0x6c]; // <?xml

// XML 1.0 §2.8 XMLDecl. Only run once per stream, so a regex is fine here.
const XML_DECL_RE =
  /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"([A-Za-z][A-Za-z0-9._-]*)"|'([A-Za-z][A-Za-z0-9._-]*)'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>$/;

function fail(condition: XmlErrorCondition, message: string): never {
  throw new XmlParseError(condition, message);
}

function notWellFormed(message: string): never {
  throw new XmlParseError("not-well-formed", message);
}

/** Throws if the 3-byte character starting with 0xEF at `p` is U+FFFE or U+FFFF (XML 1.0 §2.2 Char). */
function checkEF(buf: Buffer, p: number): void {
  if (buf[p + 1] === 0xbf && (buf[p + 2]! & 0xfe) === 0xbe) notWellFormed("U+FFFE/U+FFFF is not an XML character");
}

function decodeText(buf: Buffer, start: number, end: number, flags: number): string {
  const s = flags & F_HIGH ? utf8(buf, start, end) : latin1(buf, start, end);
  // XML 1.0 §2.11: CRLF and lone CR become LF.
  return flags & F_CR ? s.replace(/\r\n?/g, "\n") : s;
}

function decodeAttr(buf: Buffer, start: number, end: number, flags: number): string {
  const s = flags & F_HIGH ? utf8(buf, start, end) : latin1(buf, start, end);
  // XML 1.0 §3.3.3: each literal whitespace character (CRLF counting as one) becomes a space.
  return flags & F_WS ? s.replace(/\r\n|[\t\n\r]/g, " ") : s;
}

// ES2024, native on Node >= 20; the loop below covers its absence.
const isWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/**
 * Turns a string chunk into UTF-8 bytes. A lone surrogate cannot be encoded; it becomes the invalid byte 0xFF so
 * that the parser reports not-well-formed at that position (Buffer.from would silently turn it into U+FFFD).
 */
function encodeString(s: string): Buffer {
  if (isWellFormed?.call(s)) return Buffer.from(s, "utf8");
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = s.charCodeAt(i + 1);
    if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    return Buffer.concat([Buffer.from(s.slice(0, i), "utf8"), Buffer.from([0xff])]);
  }
  return Buffer.from(s, "utf8");
}

/**
 * Streaming parser for the restricted XML of RFC 6120 §11: a hand-written state machine over UTF-8 bytes.
 *
 * Each token is parsed in one pass when it is complete in the buffered input; a token split across writes is
 * kept (from its first byte) and only its end is searched for in later writes, so the work stays linear whatever
 * the chunking. Errors depend only on the bytes, never on how they were split. Limits are checked against
 * absolute stream offsets, so an oversized stanza fails as soon as its byte `maxStanzaBytes + 1` arrives.
 *
 * Deviations and choices: invalid UTF-8 and lone surrogates in string input are `not-well-formed`; an XML
 * declaration naming an encoding other than UTF-8 is `bad-format` (RFC 6120 §11.6); non-whitespace character data
 * directly inside the stream root is `bad-format`; whitespace after the root end tag is ignored.
 */
export class XmlStreamParser {
  private readonly handler: StreamHandler;
  private readonly maxBytes: number;
  private readonly maxDepth: number;
  private readonly document: boolean;

  /** buf[0, len) are the bytes not yet discarded; buf[0] is at stream offset `absBase`. */
  private buf: Buffer = EMPTY;
  private len = 0;
  /** Our own buffer for bytes retained across writes; `buf` is either it or the caller's chunk. */
  private scratch: Buffer | null = null;
  private absBase = 0;
  /** buf[0, validEnd) is valid UTF-8 ending on a character boundary; only that part is parsed. */
  private validEnd = 0;
  /** buf[validEnd] starts an invalid UTF-8 sequence. */
  private badUtf8 = false;

  private state = S_START;
  private pos = 0;
  private scan = 0;
  /** Open quote (0x22/0x27) while scanning a split start tag for its end, else 0. */
  private quote = 0;
  /** Stream offset at which the current stanza/header/document runs over the byte limit. */
  private limitAbs: number;

  /** Open elements of the current stanza (stream mode) or document; the stream root is not on it. */
  private stack: XmlElement[] = [];
  /** Length of the namespace-declaration stack when each open element was entered. */
  private nsMarks: number[] = [];
  /** Prefixes declared by the open elements (and the stream root), in order, to undo them on close. */
  private nsPrefixes: string[] = [];
  /** Prefix → stack of the namespace names it is bound to, innermost last: O(1) lookups however many are declared. */
  private nsScope = new Map<string, string[]>();
  /** Character data of the innermost open element not yet appended as a child. */
  private text = "";
  /** Stream mode: name of the open stream root. */
  private rootName: string | undefined;
  private rootSeen = false;
  /** Output of parseRef(). */
  private refText = "";
  /** Trailing high surrogate of the last string chunk. */
  private pendingSurrogate = "";

  private dead = false;
  private running = false;
  private inCallback = false;
  private queue: Buffer[] = [];

  constructor(handler: StreamHandler, limits: XmlLimits, mode: XmlParseMode = "stream") {
    if (!(limits.maxStanzaBytes > 0) || !(limits.maxDepth > 0)) throw new RangeError("XML limits must be positive");
    this.handler = handler;
    this.maxBytes = limits.maxStanzaBytes;
    this.maxDepth = limits.maxDepth;
    this.document = mode === "document";
    this.limitAbs = this.maxBytes;
  }

  /** Feeds bytes (Buffer) or text. Calls handler methods synchronously, in order. */
  write(chunk: Buffer | string): void {
    if (this.dead) return;
    let data: Buffer;
    if (typeof chunk === "string") {
      let s = this.pendingSurrogate + chunk;
      this.pendingSurrogate = "";
      const last = s.charCodeAt(s.length - 1);
      // A surrogate pair split between two string chunks: wait for the low half.
      if (last >= 0xd800 && last <= 0xdbff) {
        this.pendingSurrogate = s.slice(-1);
        s = s.slice(0, -1);
      }
      data = encodeString(s);
    } else {
      data = chunk;
    }
    if (data.length === 0) return;
    if (this.running) {
      // write() from inside a handler: parse after the current chunk, in order.
      this.queue.push(Buffer.from(data));
      return;
    }
    this.running = true;
    try {
      this.feed(data);
      while (this.queue.length > 0 && !this.dead) this.feed(this.queue.shift()!);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.queue.length = 0;
    }
  }

  /**
   * Starts a new stream (RFC 6120 §4.3.3 restart after STARTTLS/SASL): forget all state; input not yet
   * consumed — including the rest of the chunk being processed when called from a handler — is parsed as the
   * beginning of the new stream. Called between writes while a stanza is half received, the partial stanza is
   * dropped. No effect after stop() or an error.
   */
  reset(): void {
    if (this.dead) return;
    if (!this.running && this.stack.length > 0) {
      this.absBase += this.len;
      this.buf = EMPTY;
      this.len = 0;
      this.validEnd = 0;
      this.pos = 0;
    }
    this.state = S_START;
    this.stack = [];
    this.nsMarks = [];
    this.nsPrefixes = [];
    this.nsScope = new Map();
    this.text = "";
    this.rootName = undefined;
    this.rootSeen = false;
    this.limitAbs = this.absBase + this.pos + this.maxBytes;
  }

  /** Stops parsing for good (e.g. connection closing); later writes are ignored. */
  stop(): void {
    this.kill();
  }

  /**
   * Document mode: signals the end of the input, reporting `not-well-formed` if the document is incomplete.
   * Used by parseDocument().
   */
  finish(): void {
    if (this.dead) return;
    if (this.len > this.validEnd || this.pendingSurrogate !== "") {
      this.fail(new XmlParseError("not-well-formed", "truncated character at the end of input"));
    } else if (this.state !== S_EPILOG) this.fail(new XmlParseError("not-well-formed", "incomplete document"));
  }

  private kill(): void {
    this.dead = true;
    this.buf = EMPTY;
    this.len = 0;
    this.scratch = null;
    this.stack = [];
    this.text = "";
    this.queue.length = 0;
  }

  private fail(err: XmlParseError): void {
    if (this.dead) return;
    this.kill();
    this.handler.onError(err);
  }

  private feed(data: Buffer): void {
    this.append(data);
    this.validate();
    try {
      while (this.step()) if (this.dead) return;
      if (this.dead) return;
      this.checkForcedEnd();
    } catch (e) {
      if (this.inCallback) {
        // The handler threw: its exception is its caller's business; this parser cannot continue.
        this.inCallback = false;
        this.kill();
        throw e;
      }
      this.fail(e instanceof XmlParseError ? e : new XmlParseError("bad-format", `internal parser error: ${e}`));
      return;
    }
    this.compact();
  }

  /** Appends `data` to the retained bytes; zero-copy when nothing is retained. */
  private append(data: Buffer): void {
    const len = this.len;
    if (len === 0) {
      this.buf = data;
      this.len = data.length;
      return;
    }
    // compact() moved the retained bytes to the start of scratch.
    const need = len + data.length;
    let scratch = this.scratch!;
    if (scratch.length < need) {
      scratch = Buffer.allocUnsafeSlow(Math.max(need, scratch.length * 2));
      this.buf.copy(scratch, 0, 0, len);
      this.scratch = scratch;
    }
    data.copy(scratch, len);
    this.buf = scratch;
    this.len = need;
  }

  /** Drops consumed bytes; moves the retained tail (a split token) to the start of the scratch buffer. */
  private compact(): void {
    const from = this.pos;
    const buf = this.buf;
    const n = this.len - from;
    this.absBase += from;
    this.validEnd -= from;
    this.scan -= from;
    this.pos = 0;
    this.len = n;
    let scratch = this.scratch;
    if (n === 0) {
      this.buf = EMPTY;
      if (scratch !== null && scratch.length > SCRATCH_KEEP) this.scratch = null;
      return;
    }
    if (buf === scratch) {
      if (from > 0) scratch.copyWithin(0, from, from + n);
      return;
    }
    if (scratch === null || scratch.length < n || (scratch.length > SCRATCH_KEEP && n < SCRATCH_KEEP)) {
      scratch = Buffer.allocUnsafeSlow(Math.max(n * 2, 4096));
      this.scratch = scratch;
    }
    buf.copy(scratch, 0, from, from + n);
    this.buf = scratch;
  }

  /** Extends the validated UTF-8 prefix over newly appended bytes. */
  private validate(): void {
    if (this.badUtf8) return;
    const buf = this.buf;
    const from = this.validEnd;
    let end = completeEnd(buf, from, this.len);
    if (end - from < 256) {
      // Small writes: a JS loop beats creating a view for the native check.
      const bad = firstInvalidUtf8(buf, from, end);
      if (bad < end) {
        end = bad;
        this.badUtf8 = true;
      }
    } else if (!isUtf8(from === 0 && end === buf.length ? buf : buf.subarray(from, end))) {
      end = firstInvalidUtf8(buf, from, end);
      this.badUtf8 = true;
    }
    this.validEnd = end;
  }

  /** Where parsing must stop in `buf`: the validated bytes, or the byte limit if it comes first. */
  private end(): number {
    const limit = this.limitAbs - this.absBase;
    return Math.min(limit, this.validEnd);
  }

  /** Runs one state; false means more input is needed. */
  private step(): boolean {
    switch (this.state) {
      case S_CONTENT:
        return this.content();
      case S_MARKUP:
        return this.markup();
      case S_STREAM:
        return this.streamLevel();
      case S_START_TAG:
        return this.resumeStartTag();
      case S_END_TAG:
        return this.resumeEndTag();
      case S_CDATA:
        return this.cdata();
      case S_REF:
        return this.resumeRef();
      case S_START:
        return this.streamStart();
      case S_DECL:
        return this.xmlDecl();
      case S_PROLOG:
        return this.misc("character data outside the root element");
      default:
        return this.misc("content after the root element");
    }
  }

  /**
   * Parsing stopped for lack of input. If that is because the byte limit or an invalid UTF-8 sequence was
   * reached, report it — after giving the pending token a chance to report an earlier syntax error, so that
   * the reported error is the same however the input was split.
   */
  private checkForcedEnd(): void {
    const end = this.end();
    const overLimit = end < this.validEnd;
    if (!overLimit && !this.badUtf8) return;
    const p = this.pos;
    switch (this.state) {
      case S_START_TAG:
        this.parseStartTag(p, end);
        break;
      case S_END_TAG:
        this.parseEndTag(p, end);
        break;
      case S_REF:
        this.parseRef(p, end);
        break;
      case S_CDATA:
        this.cdataText(p + CDATA_OPEN.length, end);
        break;
    }
    if (overLimit) {
      fail(
        "policy-violation",
        this.rootSeen || this.document
          ? `stanza exceeds ${this.maxBytes} bytes`
          : `stream header exceeds ${this.maxBytes} bytes`,
      );
    }
    notWellFormed("invalid UTF-8");
  }

  private streamStart(): boolean {
    const buf = this.buf;
    const end = this.end();
    let p = this.pos;
    if (p >= end) return false;
    if (buf[p] === 0xef) {
      // A UTF-8 byte order mark is allowed before the declaration (XML 1.0 §4.3.3).
      if (buf[p + 1] === 0xbb && buf[p + 2] === 0xbf) p += 3;
      if (p >= end) return false;
    }
    if (buf[p] === 0x3c) {
      if (p + 1 >= end) return false;
      if (buf[p + 1] === 0x3f) {
        // "<?": only "<?xml" followed by whitespace, the XML declaration, is allowed, and only here.
        for (let i = 2; i <= XML_DECL_OPEN.length; i++) {
          if (p + i >= end) return false;
          const b = buf[p + i]!;
          const ok = i === XML_DECL_OPEN.length ? isSpace(b) : b === XML_DECL_OPEN[i];
          if (!ok) fail("restricted-xml", "processing instructions are not allowed"); // RFC 6120 §11.1
        }
        this.pos = p;
        this.scan = p + XML_DECL_OPEN.length + 1;
        this.state = S_DECL;
        return true;
      }
    }
    this.pos = p;
    this.state = S_PROLOG;
    return true;
  }

  /** The XML declaration, allowed only at the very start of a stream or document (RFC 6120 §11.5). */
  private xmlDecl(): boolean {
    const buf = this.buf;
    const end = this.end();
    let q = this.scan;
    while (q < end && buf[q] !== 0x3e) q++;
    if (q >= end) {
      this.scan = q;
      return false;
    }
    const m = XML_DECL_RE.exec(latin1(buf, this.pos, q + 1));
    if (m === null) notWellFormed("malformed XML declaration");
    const encoding = m[1] ?? m[2];
    // RFC 6120 §11.6: UTF-8 only.
    if (encoding !== undefined && encoding.toLowerCase() !== "utf-8") fail("bad-format", "encoding must be UTF-8");
    this.pos = q + 1;
    this.state = S_PROLOG;
    return true;
  }

  /** Whitespace before or after the root element. */
  private misc(what: string): boolean {
    const buf = this.buf;
    const end = this.end();
    let p = this.pos;
    while (p < end) {
      const b = buf[p]!;
      if (b === 0x3c) {
        this.pos = p;
        this.state = S_MARKUP;
        return true;
      }
      if (!isSpace(b)) {
        this.pos = p;
        notWellFormed(what);
      }
      p++;
    }
    this.pos = p;
    return false;
  }

  /** Between stanzas: whitespace keepalives are skipped, never buffered (RFC 6120 §11.7). */
  private streamLevel(): boolean {
    const buf = this.buf;
    const end = this.validEnd;
    let p = this.pos;
    while (p < end) {
      const b = buf[p]!;
      if (b === 0x3c) {
        this.pos = p;
        // The stanza (or the stream close tag) starts here; its bytes count from its '<'.
        this.limitAbs = this.absBase + p + this.maxBytes;
        this.state = S_MARKUP;
        return true;
      }
      if (!isSpace(b)) {
        this.pos = p;
        fail("bad-format", "character data between stanzas");
      }
      p++;
    }
    this.pos = p;
    return false;
  }

  /** Character data inside an element, up to the next markup. */
  private content(): boolean {
    const buf = this.buf;
    const end = this.end();
    let p = this.pos;
    let start = p;
    let flags = 0;
    while (p < end) {
      const c = TEXT_CLASS[buf[p]!]!;
      if (c === T_PLAIN) {
        p++;
      } else if (c === T_LT) {
        if (p > start) this.text += decodeText(buf, start, p, flags);
        this.pos = p;
        this.state = S_MARKUP;
        return true;
      } else if (c === T_HIGH) {
        flags |= F_HIGH;
        p++;
      } else if (c === T_AMP) {
        if (p > start) this.text += decodeText(buf, start, p, flags);
        flags = 0;
        const r = this.parseRef(p, end);
        if (r < 0) {
          this.pos = p;
          this.scan = p + 1;
          this.state = S_REF;
          return true;
        }
        this.text += this.refText;
        p = r;
        start = p;
      } else if (c === T_GT) {
        // XML 1.0 §2.4: "]]>" must not appear literally in content.
        if (p - 2 >= start && buf[p - 1] === 0x5d && buf[p - 2] === 0x5d) notWellFormed("']]>' in character data");
        p++;
      } else if (c === T_CR) {
        flags |= F_CR;
        p++;
      } else if (c === T_EF) {
        checkEF(buf, p);
        flags |= F_HIGH;
        p++;
      } else {
        notWellFormed("control character in character data"); // XML 1.0 §2.2
      }
    }
    // Out of input. Keep a trailing ']' or CR for the "]]>" and CRLF checks, which need the next bytes.
    let cut = p;
    for (let i = 0; i < 2 && cut > start && (buf[cut - 1] === 0x5d || buf[cut - 1] === 0x0d); i++) cut--;
    if (cut > start) this.text += decodeText(buf, start, cut, flags);
    this.pos = cut;
    return false;
  }

  /** At '<': dispatch on what follows. */
  private markup(): boolean {
    const buf = this.buf;
    const end = this.end();
    const p = this.pos;
    if (p + 1 >= end) return false;
    const b = buf[p + 1]!;
    if (NAME_CLASS[b]! & N_START) {
      if (this.stack.length === 0 && this.rootSeen && (this.document || this.rootName === undefined)) {
        notWellFormed("content after the root element");
      }
      if (this.parseStartTag(p, end) < 0) {
        this.scan = p + 1;
        this.quote = 0;
        this.state = S_START_TAG;
      }
      return true;
    }
    if (b === 0x2f) {
      if (this.stack.length === 0 && this.rootName === undefined) notWellFormed("end tag outside the root element");
      if (this.parseEndTag(p, end) < 0) {
        this.scan = p + 2;
        this.state = S_END_TAG;
      }
      return true;
    }
    if (b === 0x3f) fail("restricted-xml", "processing instructions are not allowed"); // RFC 6120 §11.1
    if (b === 0x21) return this.bang(p, end);
    notWellFormed("invalid character after '<'");
  }

  /** `<!`: CDATA section, or a comment or DTD markup, which are not allowed (RFC 6120 §11.1). */
  private bang(p: number, end: number): boolean {
    const buf = this.buf;
    if (p + 2 >= end) return false;
    const c = buf[p + 2]!;
    if (c === 0x2d) {
      if (p + 3 >= end) return false;
      if (buf[p + 3] === 0x2d) fail("restricted-xml", "comments are not allowed");
      notWellFormed("malformed comment");
    }
    // <!DOCTYPE, and <!ENTITY, <!ELEMENT... which are only valid inside a DTD: no entity expansion, ever.
    if (c >= 0x41 && c <= 0x5a) fail("restricted-xml", "DTDs are not allowed");
    if (c !== 0x5b) notWellFormed("invalid markup after '<!'");
    for (let i = 3; i < CDATA_OPEN.length; i++) {
      if (p + i >= end) return false;
      if (buf[p + i] !== CDATA_OPEN[i]) notWellFormed("invalid markup after '<!['");
    }
    if (this.stack.length === 0) {
      if (!this.document && this.rootName !== undefined) fail("bad-format", "character data between stanzas");
      notWellFormed("CDATA section outside the root element");
    }
    this.scan = p + CDATA_OPEN.length;
    this.state = S_CDATA;
    return true;
  }

  /** Inside a CDATA section: find `]]>`, resuming where the last write stopped. */
  private cdata(): boolean {
    const buf = this.buf;
    const end = this.end();
    let q = this.scan;
    let close = -1;
    let i = -1;
    while (q < end) {
      i = buf.indexOf(0x5d, q);
      if (i < 0 || i + 2 >= end) break;
      if (buf[i + 1] === 0x5d && buf[i + 2] === 0x3e) {
        close = i;
        break;
      }
      q = i + 1;
    }
    if (close < 0) {
      this.scan = i < 0 || i >= end ? Math.max(q, end) : i;
      return false;
    }
    this.text += this.cdataText(this.pos + CDATA_OPEN.length, close);
    this.pos = close + 3;
    this.state = S_CONTENT;
    return true;
  }

  /** Checks and decodes CDATA content. */
  private cdataText(start: number, end: number): string {
    const buf = this.buf;
    let flags = 0;
    for (let p = start; p < end; p++) {
      const c = TEXT_CLASS[buf[p]!]!;
      if (c === T_HIGH) flags |= F_HIGH;
      else if (c === T_CR) flags |= F_CR;
      else if (c === T_EF) {
        checkEF(buf, p);
        flags |= F_HIGH;
      } else if (c === T_BAD) notWellFormed("control character in CDATA section");
    }
    return decodeText(buf, start, end, flags);
  }

  /** A reference split across writes: find its end, then parse it whole. */
  private resumeRef(): boolean {
    const buf = this.buf;
    const end = this.end();
    let q = this.scan;
    while (q < end && (NAME_CLASS[buf[q]!] !== 0 || buf[q] === 0x23)) q++;
    if (q >= end) {
      this.scan = q;
      return false;
    }
    const r = this.parseRef(this.pos, q + 1);
    if (r < 0) notWellFormed("malformed reference");
    this.text += this.refText;
    this.pos = r;
    this.state = S_CONTENT;
    return true;
  }

  /**
   * Parses the reference starting with '&' at `p`. Returns the index after ';' and sets `refText`, or -1 if the
   * input ends first. Only the five predefined entities exist: no DTD means no entity expansion (RFC 6120 §11.1).
   */
  private parseRef(p: number, end: number): number {
    const buf = this.buf;
    let q = p + 1;
    if (q >= end) return -1;
    let b = buf[q]!;
    if (b === 0x23) {
      // XML 1.0 §4.1 CharRef: &#123; or &#x7b;
      if (++q >= end) return -1;
      const hex = buf[q] === 0x78;
      if (hex) q++;
      let v = 0;
      let digits = 0;
      for (;;) {
        if (q >= end) return -1;
        b = buf[q]!;
        let d: number;
        if (b >= 0x30 && b <= 0x39) d = b - 0x30;
        else if (hex && (b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) d = (b | 0x20) - 0x57;
        else break;
        if (v <= 0x10ffff) v = v * (hex ? 16 : 10) + d;
        digits++;
        q++;
      }
      if (b !== 0x3b || digits === 0) notWellFormed("malformed character reference");
      if (!isXmlChar(v)) notWellFormed("character reference to a character not allowed in XML");
      this.refText = String.fromCodePoint(v);
      return q + 1;
    }
    const s = q;
    let flags = 0;
    for (;;) {
      if (q >= end) return -1;
      const c = NAME_CLASS[buf[q]!]!;
      if (c === 0) break;
      flags |= c;
      q++;
    }
    if (buf[q] !== 0x3b || q === s) notWellFormed("malformed entity reference");
    const n = q - s;
    const b0 = buf[s];
    if (n === 2 && buf[s + 1] === 0x74) {
      if (b0 === 0x6c) this.refText = "<";
      else if (b0 === 0x67) this.refText = ">";
      else this.unknownEntity(s, q, flags);
    } else if (n === 3 && b0 === 0x61 && buf[s + 1] === 0x6d && buf[s + 2] === 0x70) {
      this.refText = "&";
    } else if (n === 4 && b0 === 0x71 && buf[s + 1] === 0x75 && buf[s + 2] === 0x6f && buf[s + 3] === 0x74) {
      this.refText = '"';
    } else if (n === 4 && b0 === 0x61 && buf[s + 1] === 0x70 && buf[s + 2] === 0x6f && buf[s + 3] === 0x73) {
      this.refText = "'";
    } else {
      this.unknownEntity(s, q, flags);
    }
    return q + 1;
  }

  private unknownEntity(start: number, end: number, flags: number): never {
    const name = utf8(this.buf, start, end);
    const valid = flags & N_HIGH ? isXmlName(name) : (NAME_CLASS[this.buf[start]!]! & N_START) !== 0;
    if (!valid) notWellFormed("malformed entity reference");
    fail("restricted-xml", `undeclared entity &${name}; (only the predefined entities are allowed)`);
  }

  /** A start tag split across writes: find its end (a '>' outside quotes, or a stray '<'), then parse it. */
  private resumeStartTag(): boolean {
    const buf = this.buf;
    const end = this.end();
    let q = this.scan;
    let quote = this.quote;
    while (q < end) {
      const b = buf[q]!;
      if (quote !== 0) {
        if (b === quote) quote = 0;
        else if (b === 0x3c) break;
      } else if (b === 0x3e || b === 0x3c) break;
      else if (b === 0x22 || b === 0x27) quote = b;
      q++;
    }
    if (q >= end) {
      this.scan = q;
      this.quote = quote;
      return false;
    }
    if (this.parseStartTag(this.pos, q + 1) < 0) notWellFormed("malformed start tag");
    return true;
  }

  /** An end tag split across writes. */
  private resumeEndTag(): boolean {
    const buf = this.buf;
    const end = this.end();
    let q = this.scan;
    while (q < end && buf[q] !== 0x3e && buf[q] !== 0x3c) q++;
    if (q >= end) {
      this.scan = q;
      return false;
    }
    if (this.parseEndTag(this.pos, q + 1) < 0) notWellFormed("malformed end tag");
    return true;
  }

  /** Decodes a name containing non-ASCII bytes and checks it against XML 1.0 §2.3. */
  private unicodeName(start: number, end: number): string {
    const name = utf8(this.buf, start, end);
    if (!isXmlName(name)) notWellFormed("invalid name");
    return name;
  }

  /**
   * Parses the start tag whose '<' is at `p` and, if it is complete before `end`, opens the element and returns
   * the index after '>'; returns -1 if the input ends first (nothing is changed then).
   */
  private parseStartTag(p: number, end: number): number {
    const buf = this.buf;
    let q = p + 1;
    let h = 0;
    let nameFlags = 0;
    for (;;) {
      if (q >= end) return -1;
      const b = buf[q]!;
      const c = NAME_CLASS[b]!;
      if (c === 0) break;
      nameFlags |= c;
      h = nameHash(h, b);
      q++;
    }
    const name = nameFlags & N_HIGH ? this.unicodeName(p + 1, q) : internName(buf, p + 1, q, h);
    let count = 0;
    let attrFlags = 0;
    let valueFlags = 0;
    let selfClosing = false;
    for (;;) {
      if (q >= end) return -1;
      let b = buf[q]!;
      const before = q;
      while (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
        if (++q >= end) return -1;
        b = buf[q]!;
      }
      if (b === 0x3e) {
        q++;
        break;
      }
      if (b === 0x2f) {
        if (q + 1 >= end) return -1;
        if (buf[q + 1] !== 0x3e) notWellFormed("expected '>' after '/'");
        selfClosing = true;
        q += 2;
        break;
      }
      if (q === before) notWellFormed("expected whitespace before attribute");
      // Attribute name.
      const ns = q;
      h = 0;
      let flags = 0;
      for (;;) {
        if (q >= end) return -1;
        const b2 = buf[q]!;
        const c = NAME_CLASS[b2]!;
        if (c === 0) break;
        flags |= c;
        h = nameHash(h, b2);
        q++;
      }
      if (!(NAME_CLASS[buf[ns]!]! & N_START)) notWellFormed("invalid attribute name");
      const attr = flags & N_HIGH ? this.unicodeName(ns, q) : internName(buf, ns, q, h);
      attrFlags |= flags;
      // Eq, then a quoted value (XML 1.0 §3.1).
      b = buf[q]!;
      while (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
        if (++q >= end) return -1;
        b = buf[q]!;
      }
      if (b !== 0x3d) notWellFormed(`expected '=' after attribute ${attr}`);
      do {
        if (++q >= end) return -1;
        b = buf[q]!;
      } while (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09);
      if (b !== 0x22 && b !== 0x27) notWellFormed(`unquoted value for attribute ${attr}`);
      const quote = b;
      let vs = ++q;
      let vflags = 0;
      let prefix: string | undefined;
      for (;;) {
        if (q >= end) return -1;
        const c = ATTR_CLASS[buf[q]!]!;
        if (c === T_PLAIN) {
          q++;
        } else if (c === T_QUOTE) {
          if (buf[q] === quote) break;
          q++;
        } else if (c === T_HIGH) {
          vflags |= F_HIGH;
          q++;
        } else if (c === T_AMP) {
          const piece = q > vs ? decodeAttr(buf, vs, q, vflags) : "";
          const r = this.parseRef(q, end);
          if (r < 0) return -1;
          prefix = (prefix ?? "") + piece + this.refText;
          q = vs = r;
          vflags = 0;
        } else if (c === T_WS || c === T_CR) {
          vflags |= F_WS;
          q++;
        } else if (c === T_EF) {
          checkEF(buf, q);
          vflags |= F_HIGH;
          q++;
        } else if (c === T_LT) {
          notWellFormed(`'<' in value of attribute ${attr}`);
        } else {
          notWellFormed(`control character in value of attribute ${attr}`);
        }
      }
      if (count === MAX_ATTRIBUTES) fail("policy-violation", `more than ${MAX_ATTRIBUTES} attributes`);
      ATTR_NAMES[count] = attr;
      VALUE_START[count] = vs;
      VALUE_END[count] = q;
      VALUE_FLAGS[count] = vflags;
      VALUE_PREFIX[count] = prefix;
      if (prefix !== undefined) vflags |= F_PREFIX;
      valueFlags |= vflags;
      count++;
      q++;
    }
    const attrs: XmlAttrs = {};
    if (count > 0) {
      // Plain ASCII values are sliced from one decoded string: one native call per tag, not per value.
      const base = VALUE_START[0]!;
      const all = valueFlags === 0 && count > 1 ? latin1(buf, base, VALUE_END[count - 1]!) : undefined;
      for (let i = 0; i < count; i++) {
        const attr = ATTR_NAMES[i]!;
        const vs = VALUE_START[i]!;
        const ve = VALUE_END[i]!;
        let value: string;
        if (all !== undefined) value = all.slice(vs - base, ve - base);
        else {
          value = ve > vs ? decodeAttr(buf, vs, ve, VALUE_FLAGS[i]!) : "";
          const prefix = VALUE_PREFIX[i];
          if (prefix !== undefined) value = prefix + value;
        }
        if (attrs[attr] === undefined) {
          attrs[attr] = value;
        } else {
          if (Object.hasOwn(attrs, attr)) notWellFormed(`duplicate attribute ${attr}`);
          // A name like "__proto__" or "toString" that a plain assignment would not store as an own property.
          Object.defineProperty(attrs, attr, { value, enumerable: true, writable: true, configurable: true });
        }
      }
    }
    this.openElement(name, attrs, selfClosing, (nameFlags & N_COLON) !== 0, (attrFlags & N_COLON) !== 0, q);
    return q;
  }

  /** Namespace checks (Namespaces in XML 1.0), then the element becomes the stream root, a stanza or a child. */
  private openElement(
    name: string,
    attrs: XmlAttrs,
    selfClosing: boolean,
    prefixedName: boolean,
    prefixedAttr: boolean,
    next: number,
  ): void {
    const nsMark = this.nsPrefixes.length;
    if (prefixedAttr) this.declare(attrs);
    const dflt = attrs.xmlns;
    if (dflt !== undefined && (dflt === XML_NS || dflt === XMLNS_NS)) notWellFormed("reserved namespace as default");
    if (prefixedName) {
      const i = qnameColon(name);
      if (i < 0) notWellFormed(`invalid element name ${name}`);
      const prefix = name.slice(0, i);
      if (prefix === "xmlns") notWellFormed("element with prefix xmlns");
      if (prefix !== "xml" && this.lookup(prefix) === undefined) notWellFormed(`undeclared prefix ${prefix}`);
    }

    const stack = this.stack;
    const depth = stack.length;
    if (!this.document && !this.rootSeen) {
      // The stream header (RFC 6120 §4.7). Its namespace declarations stay in scope for all stanzas.
      this.rootSeen = true;
      this.limitAbs = Number.POSITIVE_INFINITY;
      this.pos = next;
      if (selfClosing) {
        this.state = S_EPILOG;
        this.callStreamStart(name, attrs);
        if (this.state === S_EPILOG && !this.dead) this.callStreamEnd();
      } else {
        this.rootName = name;
        this.state = S_STREAM;
        this.callStreamStart(name, attrs);
      }
      return;
    }
    if (depth >= this.maxDepth) fail("policy-violation", `elements nested deeper than ${this.maxDepth}`);
    const el = new XmlElement(name, attrs, []);
    this.pos = next;
    if (depth > 0) {
      const parent = stack[depth - 1]!;
      if (this.text !== "") {
        parent.children.push(this.text);
        this.text = "";
      }
      parent.children.push(el);
    } else {
      this.rootSeen = true;
    }
    if (!selfClosing) {
      stack.push(el);
      this.nsMarks.push(nsMark);
      this.state = S_CONTENT;
    } else {
      this.popNamespaces(nsMark);
      if (depth === 0) this.deliver(el);
      else this.state = S_CONTENT;
    }
  }

  /** Registers the `xmlns:p` declarations among `attrs`, then checks every prefixed attribute. */
  private declare(attrs: XmlAttrs): void {
    for (const k in attrs) {
      const i = qnameColon(k);
      if (i === -1) continue;
      if (i === -2) notWellFormed(`invalid attribute name ${k}`);
      if (i !== 5 || !k.startsWith("xmlns")) continue;
      const prefix = k.slice(6);
      const uri = attrs[k]!;
      // Namespaces in XML 1.0 §3 and §5: no undeclaring, reserved prefixes and names.
      if (uri === "") notWellFormed(`empty namespace name for prefix ${prefix}`);
      if (prefix === "xmlns") notWellFormed("the xmlns prefix must not be declared");
      if (prefix === "xml") {
        if (uri !== XML_NS) notWellFormed("the xml prefix must not be rebound");
        continue;
      }
      if (uri === XML_NS || uri === XMLNS_NS) notWellFormed(`reserved namespace bound to ${prefix}`);
      this.nsPrefixes.push(prefix);
      const uris = this.nsScope.get(prefix);
      if (uris === undefined) this.nsScope.set(prefix, [uri]);
      else uris.push(uri);
    }
    let seen: Set<string> | undefined;
    for (const k in attrs) {
      const i = k.indexOf(":");
      if (i < 0) continue;
      const prefix = k.slice(0, i);
      if (prefix === "xmlns" || prefix === "xml") continue;
      const uri = this.lookup(prefix);
      if (uri === undefined) notWellFormed(`undeclared prefix ${prefix}`);
      // Namespaces in XML 1.0 §6.3: no two attributes with the same namespace and local name.
      const expanded = `${uri}}${k.slice(i + 1)}`;
      if (seen === undefined) seen = new Set();
      else if (seen.has(expanded)) notWellFormed(`duplicate attribute ${k}`);
      seen.add(expanded);
    }
  }

  private lookup(prefix: string): string | undefined {
    if (prefix === "xml") return XML_NS;
    const uris = this.nsScope.get(prefix);
    return uris === undefined ? undefined : uris[uris.length - 1];
  }

  private popNamespaces(mark: number): void {
    const prefixes = this.nsPrefixes;
    while (prefixes.length > mark) this.nsScope.get(prefixes.pop()!)!.pop();
  }

  /**
   * Parses the end tag whose '<' is at `p`; if complete before `end`, closes the element and returns the index
   * after '>', else returns -1.
   */
  private parseEndTag(p: number, end: number): number {
    const buf = this.buf;
    const s = p + 2;
    let q = s;
    let h = 0;
    let flags = 0;
    for (;;) {
      if (q >= end) return -1;
      const b = buf[q]!;
      const c = NAME_CLASS[b]!;
      if (c === 0) break;
      flags |= c;
      h = nameHash(h, b);
      q++;
    }
    const e = q;
    while (isSpace(buf[q]!)) if (++q >= end) return -1;
    if (buf[q] !== 0x3e || e === s) notWellFormed("malformed end tag");
    const name = flags & N_HIGH ? utf8(buf, s, e) : internName(buf, s, e, h);
    this.pos = q + 1;
    this.closeElement(name);
    return q + 1;
  }

  private closeElement(name: string): void {
    const stack = this.stack;
    const n = stack.length;
    if (n === 0) {
      // Stream mode: the stream close tag (RFC 6120 §4.4).
      if (name !== this.rootName) notWellFormed(`</${name}> does not close <${this.rootName}>`);
      this.rootName = undefined;
      this.limitAbs = Number.POSITIVE_INFINITY;
      this.state = S_EPILOG;
      this.callStreamEnd();
      return;
    }
    const el = stack[n - 1]!;
    if (el.name !== name) notWellFormed(`</${name}> does not close <${el.name}>`);
    if (this.text !== "") {
      el.children.push(this.text);
      this.text = "";
    }
    stack.pop();
    this.popNamespaces(this.nsMarks.pop()!);
    if (n === 1) this.deliver(el);
    else this.state = S_CONTENT;
  }

  /** A complete stanza (stream mode) or the document's root element. */
  private deliver(el: XmlElement): void {
    if (this.document) {
      this.state = S_EPILOG;
    } else {
      this.state = S_STREAM;
      this.limitAbs = Number.POSITIVE_INFINITY;
    }
    this.inCallback = true;
    this.handler.onStanza(el);
    this.inCallback = false;
  }

  private callStreamStart(name: string, attrs: XmlAttrs): void {
    this.inCallback = true;
    this.handler.onStreamStart(name, attrs);
    this.inCallback = false;
  }

  private callStreamEnd(): void {
    this.inCallback = true;
    this.handler.onStreamEnd();
    this.inCallback = false;
  }
}
