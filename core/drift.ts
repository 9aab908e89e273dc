/**
 * Drift as a reviewer reads it: for each drifted field, what the host has and what is declared,
 * as two short texts the Pulumi engine diffs itself. The provider's `read` puts the host's side
 * into the inputs it returns (`drift`), its `check` puts the declared side into the program's
 * inputs under the same key, so `pulumi preview --refresh --diff` prints, per field,
 * `- <on the host>` / `+ <declared>` lines, and `--json` carries both sides in the step's
 * old and new inputs. A config file shows as unified-diff hunks (bounded), a property as its
 * value; secrets and key material are masked on both sides.
 */
import { escapeControl, redact } from "./errors";
import { Json, State } from "./hostKind";

/** The inputs key that carries the drift. */
export const DRIFT_KEY = "drift";

/** Lines of context around a change, lines shown per field, characters per line. */
export const DRIFT_LIMITS = { context: 2, lines: 40, lineChars: 200 };

/** The field a resource missing on the host drifts in: `absent` on the host, `present` declared. */
export const ABSENT_FIELD = "onHost";

/** The field that says a drift cannot be put back without losing data (the same text on both sides). */
export const DATA_LOSS_FIELD = "restoreLosesData";

/** What stands in for a masked value. */
export const MASK = "[secret]";

const PEM = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g;

/** `text` with every secret and every PEM private key block replaced by a mask. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return redact(text, [...secrets].sort((a, b) => b.length - a.length)).replace(PEM, "[key material]");
}

/** The value at `field` (`content`, `properties.compression`, `properties.com.example:owner`). */
export function valueAt(state: State | undefined, field: string): Json | undefined {
  let cur: Json | undefined = state as Json | undefined;
  let rest = field;
  while (rest !== "") {
    if (!cur || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    const obj = cur as { [k: string]: Json };
    if (rest in obj) return obj[rest];
    const dot = rest.indexOf(".");
    if (dot < 0) return undefined;
    cur = obj[rest.slice(0, dot)];
    rest = rest.slice(dot + 1);
  }
  return cur;
}

function isText(v: Json | undefined): v is string {
  return typeof v === "string" && v.includes("\n");
}

function clip(line: string): string {
  const l = escapeControl(line);
  return l.length > DRIFT_LIMITS.lineChars ? l.slice(0, DRIFT_LIMITS.lineChars - 3) + "..." : l;
}

function lines(text: string): string[] {
  const l = text.split("\n");
  if (l[l.length - 1] === "") l.pop();
  return l;
}

/** Pairs of equal lines (a longest common subsequence); prefix/suffix only when the files are large. */
function matches(a: string[], b: string[]): [number, number][] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const out: [number, number][] = [];
  for (let i = 0; i < pre; i++) out.push([i, i]);
  const ma = a.slice(pre, a.length - suf);
  const mb = b.slice(pre, b.length - suf);
  if (ma.length * mb.length <= 1_000_000) {
    const n = ma.length;
    const m = mb.length;
    const L: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = ma[i] === mb[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    for (let i = 0, j = 0; i < n && j < m; ) {
      if (ma[i] === mb[j]) out.push([pre + i++, pre + j++]);
      else if (L[i + 1][j] >= L[i][j + 1]) i++;
      else j++;
    }
  }
  for (let k = suf; k > 0; k--) out.push([a.length - k, b.length - k]);
  return out;
}

interface Hunk {
  /** 0-based start and length on the host (a) and in the declaration (b). */
  a: number;
  al: number;
  b: number;
  bl: number;
}

/** Unified-diff hunks of `a` (host) against `b` (declared), with context. */
export function hunks(a: string[], b: string[], context = DRIFT_LIMITS.context): Hunk[] {
  const m = [...matches(a, b), [a.length, b.length] as [number, number]];
  const changes: Hunk[] = [];
  let pa = 0;
  let pb = 0;
  for (const [i, j] of m) {
    if (i > pa || j > pb) changes.push({ a: pa, al: i - pa, b: pb, bl: j - pb });
    pa = i + 1;
    pb = j + 1;
  }
  const out: Hunk[] = [];
  for (const c of changes) {
    const before = Math.min(context, c.a, c.b);
    const h = { a: c.a - before, al: c.al + before, b: c.b - before, bl: c.bl + before };
    const after = Math.min(context, a.length - (c.a + c.al), b.length - (c.b + c.bl));
    h.al += after;
    h.bl += after;
    const last = out[out.length - 1];
    if (last && h.a <= last.a + last.al) {
      last.al = h.a + h.al - last.a;
      last.bl = h.b + h.bl - last.b;
    } else out.push(h);
  }
  return out;
}

const HEADER = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$/;
const MORE = (n: number) => `... (${n} more line${n === 1 ? "" : "s"} of this diff not shown)`;

/**
 * One side of a file's diff: the hunk headers (`@@ -host +declared @@`, the same on both sides)
 * with that side's lines, at most `DRIFT_LIMITS.lines` lines of hunks.
 */
function textSide(text: string, hs: Hunk[], side: "a" | "b"): string {
  const src = lines(text);
  const out: string[] = [];
  let shown = 0;
  let hidden = 0;
  for (const h of hs) {
    const start = side === "a" ? h.a : h.b;
    const len = side === "a" ? h.al : h.bl;
    const budget = Math.max(h.al, h.bl);
    if (shown + budget > DRIFT_LIMITS.lines && shown > 0) {
      hidden += budget;
      continue;
    }
    out.push(`@@ -${h.a + 1},${h.al} +${h.b + 1},${h.bl} @@`);
    const take = Math.min(len, DRIFT_LIMITS.lines);
    for (let i = 0; i < take; i++) out.push(clip(src[start + i]));
    hidden += budget - Math.min(budget, DRIFT_LIMITS.lines);
    shown += budget;
  }
  if (hidden > 0) out.push(MORE(hidden));
  return out.join("\n") + "\n";
}

/** A value as one line (a text's lines joined by `\n`), bounded. */
export function showValue(v: Json | undefined): string {
  if (v === undefined) return "(not set)";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return clip(s);
}

/** The host's side of each drifted field, masked; `fields` as a kind's `compare` names them. */
export function hostSide(desired: State, observed: State | undefined, fields: readonly string[], secrets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    if (!observed) return { [ABSENT_FIELD]: "absent" };
    const o = valueAt(observed, f);
    const d = valueAt(desired, f);
    if (isText(o) || isText(d)) {
      const a = maskSecrets(typeof o === "string" ? o : "", secrets);
      const b = maskSecrets(typeof d === "string" ? d : "", secrets);
      out[f] = textSide(a, hunks(lines(a), lines(b)), "a");
    } else out[f] = maskSecrets(showValue(o), secrets);
  }
  return out;
}

/**
 * The declared side for the fields of a host side made by `hostSide` (possibly in an earlier
 * run): a file's lines cut by the same hunk headers from what the inputs render now.
 */
export function declaredSide(host: Record<string, unknown>, desired: State, secrets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [f, h] of Object.entries(host)) {
    if (typeof h !== "string") continue;
    if (f === DATA_LOSS_FIELD) {
      out[f] = h;
      continue;
    }
    const d = valueAt(desired, f);
    const heads = h.split("\n").filter((l) => HEADER.test(l));
    if (!heads.length) {
      out[f] = f === ABSENT_FIELD ? "present" : maskSecrets(showValue(d), secrets);
      continue;
    }
    const src = lines(maskSecrets(typeof d === "string" ? d : "", secrets));
    const o: string[] = [];
    for (const head of heads) {
      const [, , , b, bl] = HEADER.exec(head)!.map(Number);
      o.push(head);
      const take = Math.min(bl, DRIFT_LIMITS.lines);
      for (let i = 0; i < take && b - 1 + i < src.length; i++) o.push(clip(src[b - 1 + i]));
    }
    const more = h.split("\n").find((l) => l.startsWith("... ("));
    if (more) o.push(more);
    out[f] = o.join("\n") + "\n";
  }
  return out;
}

/** One line for the log: which fields drifted, and how much. */
export function driftSummary(host: Record<string, string>): string {
  if (host[ABSENT_FIELD] === "absent") return "absent on the host";
  return Object.entries(host)
    .map(([f, h]) => {
      if (f === DATA_LOSS_FIELD) return `NOT restorable in place: ${h}`;
      const heads = h.split("\n").filter((l) => HEADER.test(l));
      if (!heads.length) return `${f} is ${h}`;
      const lineCount = h.split("\n").filter((l) => l && !HEADER.test(l)).length;
      return `${f} (${heads.length} hunk${heads.length === 1 ? "" : "s"}, ${lineCount} line${lineCount === 1 ? "" : "s"} shown)`;
    })
    .join(", ");
}
