/**
 * A small, order-preserving view of an XML document on top of fast-xml-parser
 * (`preserveOrder: true`), enough to edit libvirt domain XML without regular expressions:
 * find children, read/set attributes, append/remove elements, serialize back.
 */
import { XMLBuilder, XMLParser } from "fast-xml-parser";

/** One node as fast-xml-parser represents it with `preserveOrder`. */
export type XNode = { [tag: string]: XNode[] | string | Record<string, string> | undefined; ":@"?: Record<string, string> };

const OPTS = {
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  preserveOrder: true,
  commentPropName: "#comment",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  suppressEmptyNode: true,
} as const;

export function parseXml(xml: string): XNode[] {
  return new XMLParser(OPTS).parse(xml) as XNode[];
}

export function buildXml(nodes: XNode[]): string {
  return new XMLBuilder({ ...OPTS, format: false }).build(nodes) as string;
}

/** The tag of an element node (undefined for text/comment nodes). */
export function tagOf(n: XNode): string | undefined {
  return Object.keys(n).find((k) => k !== ":@" && k !== "#text" && k !== "#comment");
}

export function childrenOf(n: XNode): XNode[] {
  const t = tagOf(n);
  if (!t) return [];
  const c = n[t];
  if (Array.isArray(c)) return c;
  n[t] = [];
  return n[t] as XNode[];
}

export function attr(n: XNode, name: string): string | undefined {
  return n[":@"]?.[`@_${name}`];
}

export function setAttr(n: XNode, name: string, value: string | undefined): void {
  if (value === undefined) {
    if (n[":@"]) delete n[":@"][`@_${name}`];
    return;
  }
  n[":@"] = { ...(n[":@"] ?? {}), [`@_${name}`]: value };
}

/** Direct children with this tag. */
export function find(n: XNode, tag: string): XNode[] {
  return childrenOf(n).filter((c) => tagOf(c) === tag);
}

export function first(n: XNode | undefined, tag: string): XNode | undefined {
  return n ? find(n, tag)[0] : undefined;
}

/** The text content of an element (concatenated text children). */
export function text(n: XNode | undefined): string | undefined {
  if (!n) return undefined;
  const parts = childrenOf(n).filter((c) => "#text" in c).map((c) => String(c["#text"]));
  return parts.length ? parts.join("") : undefined;
}

/** A new element. Attributes with undefined values are left out. */
export function el(tag: string, attrs: Record<string, string | undefined> = {}, children: XNode[] = []): XNode {
  const n: XNode = { [tag]: children };
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) setAttr(n, k, v);
  return n;
}

export function textEl(tag: string, value: string): XNode {
  return { [tag]: [{ "#text": value } as XNode] };
}

/** Append a child (before trailing whitespace, so the document stays tidy). */
export function append(parent: XNode, child: XNode): void {
  const c = childrenOf(parent);
  let i = c.length;
  while (i > 0 && "#text" in c[i - 1] && String(c[i - 1]["#text"]).trim() === "") i--;
  c.splice(i, 0, child);
}

/** Remove the children that match; returns how many went. */
export function removeWhere(parent: XNode, pred: (c: XNode) => boolean): number {
  const c = childrenOf(parent);
  const keep = c.filter((x) => !(tagOf(x) && pred(x)));
  const n = c.length - keep.length;
  c.splice(0, c.length, ...keep);
  return n;
}

/** The child with this tag, created (appended) when missing. */
export function ensure(parent: XNode, tag: string, attrs: Record<string, string | undefined> = {}): XNode {
  const existing = first(parent, tag);
  if (existing) return existing;
  const n = el(tag, attrs);
  append(parent, n);
  return n;
}

/** The document's root element with this tag. */
export function rootElement(doc: XNode[], tag: string): XNode {
  const r = doc.find((n) => tagOf(n) === tag);
  if (!r) throw new Error(`not a <${tag}> document (root elements: ${doc.map(tagOf).filter(Boolean).join(", ") || "none"})`);
  return r;
}
