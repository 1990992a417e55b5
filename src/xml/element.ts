import { escapeAttr, escapeText } from "./escape.ts";

/** A child of an element: another element or a run of character data. */
export type XmlNode = XmlElement | string;

/** Attribute map. Namespace declarations (`xmlns`, `xmlns:p`) are kept as ordinary attributes. */
export type XmlAttrs = Record<string, string>;

/**
 * A parsed or built XML element. Deliberately small: stanzas pass through the router unchanged and
 * modules decode only the payloads they own.
 *
 * Namespaces follow XMPP practice: an element without an `xmlns` attribute inherits its parent's
 * namespace, and top-level stanzas inherit the stream's default namespace (jabber:client, jabber:server,
 * jabber:component:accept), so the same element can be written to any kind of stream.
 */
export class XmlElement {
  name: string;
  attrs: XmlAttrs;
  children: XmlNode[];

  constructor(name: string, attrs?: XmlAttrs, children?: XmlNode[]) {
    this.name = name;
    this.attrs = attrs ?? {};
    this.children = children ?? [];
  }

  /** The element's own `xmlns` attribute, if it declares one. */
  get xmlns(): string | undefined {
    return this.attrs.xmlns;
  }

  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  /** Sets an attribute, or removes it when `value` is undefined. */
  setAttr(name: string, value: string | undefined): this {
    if (value === undefined) delete this.attrs[name];
    else this.attrs[name] = value;
    return this;
  }

  /**
   * First child element with this local name and, if given, this namespace (the child's own xmlns, or
   * this element's when the child declares none).
   */
  getChild(name: string, xmlns?: string): XmlElement | undefined {
    for (const c of this.children) {
      if (this.matches(c, name, xmlns)) {
        return c;
      }
    }
    return undefined;
  }

  getChildren(name: string, xmlns?: string): XmlElement[] {
    const out: XmlElement[] = [];
    for (const c of this.children) {
      if (this.matches(c, name, xmlns)) {
        out.push(c);
      }
    }
    return out;
  }

  /** A child element with this name, in this namespace if given (its own xmlns or, without one, ours). */
  private matches(c: XmlNode, name: string, xmlns: string | undefined): c is XmlElement {
    return (
      typeof c !== "string" && c.name === name && (xmlns === undefined || (c.attrs.xmlns ?? this.attrs.xmlns) === xmlns)
    );
  }

  /** First child element in the given namespace, whatever its name (e.g. the payload of an iq). */
  getChildByNs(xmlns: string): XmlElement | undefined {
    for (const c of this.children) {
      if (typeof c !== "string" && (c.attrs.xmlns ?? this.attrs.xmlns) === xmlns) return c;
    }
    return undefined;
  }

  /** All child elements, skipping character data. */
  elements(): XmlElement[] {
    const out: XmlElement[] = [];
    for (const c of this.children) if (typeof c !== "string") out.push(c);
    return out;
  }

  /** First child element, whatever its name. */
  firstElement(): XmlElement | undefined {
    for (const c of this.children) if (typeof c !== "string") return c;
    return undefined;
  }

  /** Concatenated character data directly inside this element. */
  text(): string {
    let s = "";
    for (const c of this.children) if (typeof c === "string") s += c;
    return s;
  }

  getChildText(name: string, xmlns?: string): string | undefined {
    return this.getChild(name, xmlns)?.text();
  }

  append(...nodes: (XmlNode | undefined | null | false)[]): this {
    for (const n of nodes) if (n !== undefined && n !== null && n !== false) this.children.push(n);
    return this;
  }

  /** Removes child elements matching the name (and namespace, if given). Returns how many were removed. */
  removeChildren(name: string, xmlns?: string): number {
    const before = this.children.length;
    this.children = this.children.filter((c) => !this.matches(c, name, xmlns));
    return before - this.children.length;
  }

  /** Deep copy. */
  clone(): XmlElement {
    return new XmlElement(
      this.name,
      { ...this.attrs },
      this.children.map((c) => (typeof c === "string" ? c : c.clone())),
    );
  }

  toString(): string {
    return serialize(this);
  }
}

/** Serializes an element (and its subtree) to a string, escaping text and attribute values. */
export function serialize(el: XmlElement): string {
  let s = `<${el.name}`;
  for (const k in el.attrs) {
    const v = el.attrs[k];
    if (v !== undefined) s += ` ${k}="${escapeAttr(v)}"`;
  }
  if (el.children.length === 0) return `${s}/>`;
  s += ">";
  for (const c of el.children) s += typeof c === "string" ? escapeText(c) : serialize(c);
  return `${s}</${el.name}>`;
}

/**
 * Builds an element the way it reads in XML: `xml("iq", { type: "result", id }, xml("query", { xmlns }))`.
 * Attributes whose value is undefined are omitted; strings become character data; falsy children are skipped.
 */
export function xml(
  name: string,
  attrs?: Record<string, string | undefined> | null,
  ...children: (XmlNode | undefined | null | false)[]
): XmlElement {
  const a: XmlAttrs = {};
  if (attrs) for (const k in attrs) if (attrs[k] !== undefined) a[k] = attrs[k] as string;
  const el = new XmlElement(name, a);
  for (const c of children) if (c !== undefined && c !== null && c !== false) el.children.push(c);
  return el;
}
