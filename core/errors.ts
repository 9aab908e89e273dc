/** Error types shared by the core. Messages never contain secrets (see `redact`). */

/** One problem with one input: which field, what value, how to fix it. */
export interface Problem {
  field: string;
  value?: unknown;
  message: string;
}

/**
 * Characters a message must not carry raw: C0 controls, DEL, C1 controls, the Unicode line and
 * paragraph separators and the bidirectional overrides/isolates (which can reorder what a
 * terminal shows).
 */
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0" };

/**
 * `s` with every control character written as an escape (`\n`, `\r`, `\t`, `\0`, `\u2028`...),
 * so a value with line breaks shows on one line and cannot forge further lines of a message.
 */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, (ch) => NAMED[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function show(value: unknown): string {
  if (value === undefined) return "";
  let s: string | undefined;
  try {
    s = typeof value === "string" ? `'${value}'` : typeof value === "number" && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
  } catch {
    s = String(value);
  }
  if (s === undefined) s = String(value);
  return ` (got ${s.length > 120 ? s.slice(0, 117) + "..." : s})`;
}

/** Format one problem as `field: message (got 'value')`, control characters escaped. */
export function formatProblem(p: Problem): string {
  return escapeControl(`${p.field}: ${p.message}${show(p.value)}`);
}

/** Thrown when inputs are invalid; lists every problem, not just the first. */
export class ValidationError extends Error {
  constructor(public readonly context: string, public readonly problems: Problem[]) {
    super(
      `${escapeControl(context)}: ${problems.length} invalid input${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
    );
    this.name = "ValidationError";
  }
}

/** Replace every occurrence of each secret in `text` with `[secret]`. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 1) out = out.split(s).join("[secret]");
  }
  return out;
}
