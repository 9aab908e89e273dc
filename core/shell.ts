/**
 * The one quoting helper. A value reaches a shell only through `quote`/`quoteArgv`
 * (POSIX single quotes; NixOS `lib.escapeShellArg` semantics). Prefer argv arrays
 * (`Host.run` never uses a shell); use this only for the rare script that needs one,
 * e.g. the command string of an SSH exec.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one value for a POSIX shell. Rejects NUL, which no shell argument can carry. */
export function quote(value: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`quote: expected a string, got ${typeof value}`);
  }
  if (value.includes("\0")) {
    throw new Error("quote: a shell argument cannot contain a NUL byte");
  }
  if (value !== "" && SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quote every element and join with spaces: the command line for `sh -c`. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quote).join(" ");
}
