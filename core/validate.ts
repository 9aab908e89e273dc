/**
 * Reusable input checks. Each returns nothing or pushes a `Problem` (field, value, fix) onto a
 * `Checker`, so a component reports every problem at once. Values that are not known yet at
 * preview time (`isUnknown`) are skipped; the provider's `check` sees them later.
 */
import * as net from "net";
import * as path from "path";
import { Problem, ValidationError } from "./errors";
import { PathUse, writePathProblem } from "./writePaths";

/** The largest uid/gid (2^32 - 2; 2^32 - 1 is "no id"). */
export const MAX_ID = 4294967294;

/** The TCP/UDP port range. */
export const MIN_PORT = 1;
export const MAX_PORT = 65535;

/** The value the Pulumi engine passes for inputs not known during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(v: unknown): boolean {
  return v === UNKNOWN;
}

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 };

/** Parse `10G`, `512M`, `1.5T`, `64KiB`, `100` (bytes) into bytes; undefined when malformed. */
export function parseSize(v: string | number): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$/i.exec(v);
  if (!m) return undefined;
  return Math.floor(parseFloat(m[1]) * UNITS[m[2].toUpperCase()]);
}

/** Parse an octal mode (`"0600"`, `"600"`, `"0o600"`, or a number already in octal meaning). */
export function parseMode(v: string | number): number | undefined {
  if (typeof v === "number") return v >= 0 && v <= 0o7777 ? v : undefined;
  const m = /^(?:0o|0)?([0-7]{3,4})$/.exec(v.trim());
  return m ? parseInt(m[1], 8) : undefined;
}

/** Is `v` an IPv4/IPv6 CIDR with a valid prefix? */
export function isCidr(v: string): boolean {
  const [addr, prefix, ...rest] = v.split("/");
  if (rest.length || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  const fam = net.isIP(addr);
  return fam !== 0 && Number(prefix) <= (fam === 4 ? 32 : 128);
}

/** RFC 1123 host name (labels of letters, digits, hyphens). */
export function isHostname(v: string): boolean {
  return v.length <= 253 && /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/.test(v);
}

/**
 * Characters that end or split a line in some reader of a rendered file: C0 controls (NUL, CR,
 * LF, TAB, VT, FF...), DEL, C1 controls (NEL U+0085 among them) and the Unicode line and
 * paragraph separators U+2028/U+2029; and the bidirectional controls and BOM, which reorder or
 * hide what an editor or terminal shows of the file (issue 25: the same set `escapeControl` escapes).
 */
export const LINE_BREAKING = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

/** What a secret may be, as the program that reads it takes it. */
export interface SecretRules {
  /** Longest value in UTF-8 bytes the reader takes (`why` says whose limit it is). */
  maxBytes: number;
  /** The reader and its limit, for the message (e.g. "smbpasswd -s reads lines of at most 255 bytes"). */
  why: string;
  /** A multi-line value is allowed (PEM keys): then only NUL and other controls but `\n`/`\r` are refused. @default false */
  multiline?: boolean;
}

/**
 * Problems with a secret. The value itself never goes into a problem (no `value`), only the
 * field and what is wrong with it. Values not known yet (preview) are skipped.
 */
export function secretProblems(field: string, v: unknown, rules: SecretRules): Problem[] {
  if (v === undefined || isUnknown(v)) return [];
  const out = (message: string): Problem[] => [{ field, message }];
  if (typeof v !== "string") return out("must be a string (pass it as a pulumi.secret)");
  if (v === "") return out("is empty; set a password (as a pulumi.secret)");
  if (v.includes("\0")) return out("contains a NUL character, which ends the value early for the program that reads it; remove it");
  if (!rules.multiline && /[\r\n\u0085\u2028\u2029]/.test(v)) {
    return out(`contains a line break, which would end it early or add a line to what it is written to (${rules.why}); remove it`);
  }
  const controls = rules.multiline ? /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]/ : LINE_BREAKING;
  if (controls.test(v)) return out("contains a control character; use printable characters only");
  if (Buffer.byteLength(v, "utf8") > rules.maxBytes) return out(`is longer than ${rules.maxBytes} bytes (${rules.why}); use a shorter one`);
  return [];
}

/** PEM (`-----BEGIN ... PRIVATE KEY-----`) or OpenSSH private key text, as ssh2 parses it. */
const PRIVATE_KEY = /^\s*-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----\r?\n[\s\S]+\r?\n-----END ([A-Z0-9]+ )*PRIVATE KEY-----\s*$/;

/** Secrets of an SSH connection: private keys are at most 16 KiB (an 8192-bit RSA key is ~6.4 KiB). */
export const SSH_KEY_RULES: SecretRules = { maxBytes: 16384, why: "an SSH private key of any usual type fits in 16 KiB", multiline: true };
export const SSH_PASSPHRASE_RULES: SecretRules = { maxBytes: 1024, why: "kvmshare's limit for key passphrases" };

/**
 * Problems with a connection (`{ kind: "local" }` or `{ kind: "ssh", ... }`), fields prefixed
 * `connection.`; the private key and passphrase are checked without their value reaching a message.
 */
export function connectionProblems(conn: unknown): Problem[] {
  if (conn === undefined || conn === null || isUnknown(conn)) return [];
  const c = new Checker("connection");
  if (typeof conn !== "object") return c.add("connection", conn, "must be { kind: 'local' } or { kind: 'ssh', host, ... }").problems;
  const o = conn as Record<string, unknown>;
  if (o.kind === "local" || isUnknown(o.kind)) return [];
  if (o.kind !== "ssh") return c.add("connection.kind", o.kind, "must be 'local' or 'ssh'").problems;
  if (!isUnknown(o.host) && (typeof o.host !== "string" || !(net.isIP(o.host) || isHostname(o.host)))) {
    c.add("connection.host", o.host, "must be an IP address or a host name");
  }
  c.port("connection.port", o.port as number | undefined);
  if (o.user !== undefined && !isUnknown(o.user) && (typeof o.user !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/.test(o.user))) {
    c.add("connection.user", o.user, "must be a user name (letters, digits, '_', '.', '@', '-'; at most 64)");
  }
  c.secret("connection.privateKey", o.privateKey, SSH_KEY_RULES);
  if (typeof o.privateKey === "string" && !isUnknown(o.privateKey) && !c.problems.some((p) => p.field === "connection.privateKey") && !PRIVATE_KEY.test(o.privateKey)) {
    c.add("connection.privateKey", undefined, "is not a private key (expected the text of a PEM or OpenSSH key, from '-----BEGIN ... PRIVATE KEY-----' to '-----END ... PRIVATE KEY-----')");
  }
  c.secret("connection.passphrase", o.passphrase, SSH_PASSPHRASE_RULES);
  if (o.hostKeySha256 !== undefined && !isUnknown(o.hostKeySha256) && (typeof o.hostKeySha256 !== "string" || !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(o.hostKeySha256))) {
    c.add("connection.hostKeySha256", o.hostKeySha256, "must be a fingerprint as 'ssh-keygen -l' prints it: SHA256:<43 base64 characters>");
  }
  if (o.agent !== undefined && !isUnknown(o.agent)) c.absPath("connection.agent", o.agent as string, "read");
  return c.problems;
}

/** Collects problems; `throwIfAny` raises one `ValidationError` listing them all. */
export class Checker {
  readonly problems: Problem[] = [];
  constructor(public readonly context: string) {}

  add(field: string, value: unknown, message: string): this {
    this.problems.push({ field, value, message });
    return this;
  }

  private skip(v: unknown): boolean {
    return v === undefined || isUnknown(v);
  }

  /** Problems with a secret (see `secretProblems`): the value never goes into the message. */
  secret(field: string, v: unknown, rules: SecretRules): this {
    this.problems.push(...secretProblems(field, v, rules));
    return this;
  }

  /**
   * A command run without a shell: a non-empty array of non-empty words, none with a NUL (the
   * kernel ends an argument there, so the program would run with another argument than declared).
   * `example` shows the form, e.g. "['systemctl', 'reload', 'smbd']".
   */
  argv(field: string, v: unknown, example: string): this {
    if (this.skip(v)) return this;
    if (!Array.isArray(v) || !v.length || v.some((x) => typeof x !== "string" || x === "" || x.includes("\0"))) {
      this.add(field, v, `must be a non-empty argv array of non-empty strings without NUL, e.g. ${example}`);
    }
    return this;
  }

  /** A required value is present. */
  required(field: string, v: unknown): this {
    if (v === undefined || v === null || v === "") this.add(field, v, "is required");
    return this;
  }

  /** A resource-style name: letters, digits, `_.-`, starting with a letter or digit. */
  name(field: string, v: string | undefined, max = 64): this {
    if (this.skip(v)) return this;
    if (typeof v !== "string" || !new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${max - 1}}$`).test(v)) {
      this.add(field, v, `must be 1-${max} letters, digits, '_', '.', '-' starting with a letter or digit`);
    }
    return this;
  }

  /**
   * An absolute, normalized path without newlines or NUL, that the write-path policy allows for
   * a field used as `use` (core/writePaths.ts: system paths are refused unless `use` is "read").
   */
  absPath(field: string, v: string | undefined, use: PathUse = "file"): this {
    if (this.skip(v)) return this;
    if (typeof v !== "string" || !v.startsWith("/")) this.add(field, v, "must be an absolute path (start with '/')");
    else if (LINE_BREAKING.test(v)) this.add(field, v, "must not contain NUL, line breaks or other control characters");
    else if (path.posix.normalize(v) !== v && path.posix.normalize(v) + "/" !== v)
      this.add(field, v, `must be normalized, without '..', '.' or empty segments (did you mean '${path.posix.normalize(v)}'?)`);
    else {
      const problem = writePathProblem(v, use);
      if (problem) this.add(field, v, problem);
    }
    return this;
  }

  /** One of a fixed list. */
  oneOf<T extends string>(field: string, v: string | undefined, allowed: readonly T[]): this {
    if (this.skip(v)) return this;
    if (!allowed.includes(v as T)) this.add(field, v, `must be one of ${allowed.join(", ")}`);
    return this;
  }

  /** An integer within [min, max]. */
  int(field: string, v: number | undefined, min: number, max: number, hint = ""): this {
    if (this.skip(v)) return this;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.add(field, v, `must be an integer from ${min} to ${max}${hint ? ` (${hint})` : ""}`);
    }
    return this;
  }

  /** A TCP/UDP port. */
  port(field: string, v: number | undefined): this {
    return this.int(field, v, MIN_PORT, MAX_PORT);
  }

  /** A size such as `10G`, `512M`, `64K` or a byte count. */
  size(field: string, v: string | number | undefined, minBytes = 0): this {
    if (this.skip(v)) return this;
    const n = parseSize(v as string | number);
    if (n === undefined) this.add(field, v, "must be a size like 512M, 10G, 1.5T or a number of bytes");
    else if (n < minBytes) this.add(field, v, `must be at least ${minBytes} bytes`);
    return this;
  }

  /** An octal file mode such as `0600`. */
  mode(field: string, v: string | number | undefined): this {
    if (this.skip(v)) return this;
    if (parseMode(v as string | number) === undefined) this.add(field, v, "must be an octal mode like '0600' or '0644'");
    return this;
  }

  /** An IP address, CIDR, or host name. */
  hostOrCidr(field: string, v: string | undefined): this {
    if (this.skip(v)) return this;
    if (typeof v !== "string" || !(net.isIP(v) || isCidr(v) || isHostname(v))) {
      this.add(field, v, "must be an IP address, a CIDR like 192.168.122.0/24, or a host name");
    }
    return this;
  }

  /** An IP address or CIDR (no names). */
  cidr(field: string, v: string | undefined): this {
    if (this.skip(v)) return this;
    if (typeof v !== "string" || !(net.isIP(v) || isCidr(v))) {
      this.add(field, v, "must be an IP address or a CIDR like 10.0.0.0/24 or fd00::/64");
    }
    return this;
  }

  /** Raise one error listing every problem, if there are any. */
  throwIfAny(): void {
    if (this.problems.length) throw new ValidationError(this.context, this.problems);
  }
}

/**
 * A realm: uppercase letters, digits, '.', '-' (the DNS domain in capitals, by convention and so
 * NFSv4 idmapping and `default_realm` agree). Nothing a krb5.conf, kdc.conf or kadmin command
 * line could read as syntax: no spaces, quotes, braces, '=' or control characters.
 */
export const REALM = /^[A-Z0-9](?:[A-Z0-9-]{0,62})(?:\.[A-Z0-9](?:[A-Z0-9-]{0,62}))*$/;

/** Check a realm name: field, value and fix. */
export function checkRealm(c: Checker, field: string, v: unknown): void {
  if (v === undefined || isUnknown(v)) return;
  if (typeof v !== "string" || v === "") c.add(field, v, "is required: the Kerberos realm, e.g. 'EXAMPLE.ORG'");
  else if (REALM.test(v.toUpperCase()) && v !== v.toUpperCase()) c.add(field, v, `must be uppercase by convention (NFSv4 idmapping and default_realm rely on it); use '${v.toUpperCase()}'`);
  else if (!REALM.test(v)) c.add(field, v, "must be a realm name: uppercase letters, digits, '-' in dot-separated labels (e.g. 'EXAMPLE.ORG'); no spaces, quotes, braces or control characters");
}
