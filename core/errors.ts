/** Error types shared by the core. Messages never contain secrets (see `redact`). */

/** One problem with one input: which field, what value, how to fix it. */
export interface Problem {
  field: string;
  value?: unknown;
  message: string;
}

function show(value: unknown): string {
  if (value === undefined) return "";
  const s = typeof value === "string" ? `'${value}'` : JSON.stringify(value);
  return ` (got ${s && s.length > 120 ? s.slice(0, 117) + "..." : s})`;
}

/** Format one problem as `field: message (got 'value')`. */
export function formatProblem(p: Problem): string {
  return `${p.field}: ${p.message}${show(p.value)}`;
}

/** Thrown when inputs are invalid; lists every problem, not just the first. */
export class ValidationError extends Error {
  constructor(public readonly context: string, public readonly problems: Problem[]) {
    super(
      `${context}: ${problems.length} invalid input${problems.length === 1 ? "" : "s"}:\n` +
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
