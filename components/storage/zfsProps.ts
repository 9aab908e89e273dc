/**
 * Dataset properties: what OpenZFS accepts (the validation table), how a declared value is
 * normalised to what `zfs get -Hp` prints (so drift compares like with like), and which host
 * features a value needs (checked against `zfsFeatures` at preview).
 */
import { Problem } from "../../core/errors";
import { isUnknown, parseSize } from "../../core/validate";
import { writePathProblem } from "../../core/writePaths";
import { Requirement } from "./zfsFeatures";

export type Rule =
  | { kind: "enum"; values: readonly string[]; aliases?: Record<string, string> }
  | { kind: "size"; none: boolean }
  | { kind: "recordsize" }
  | { kind: "mountpoint" }
  | { kind: "pattern"; re: RegExp; hint: string };

/** What every property's rule says besides its values. */
interface RuleFacts {
  /** What an unset property means (the reference's "default" column). */
  default: string;
  /** What ZFS cannot `inherit`: the value that stands for "unset" (`zfs set`). @default inheritable */
  uninherited?: string;
}

/** A rule with the TypeScript type of the values it takes (`V`, a phantom: never set). */
export type PropertyRule<V = string> = Rule & RuleFacts & { readonly __value?: V };

/** The value type a rule takes. */
type ValueOf<R> = R extends { readonly __value?: infer V } ? V : never;

/** A rule whose value type is the union of its values (`"on" | "off"`). */
function oneOf<const V extends string>(values: readonly V[], facts: RuleFacts & { aliases?: Record<string, string> }): PropertyRule<V> {
  const { aliases, ...rest } = facts;
  return { kind: "enum", values, ...(aliases ? { aliases } : {}), ...rest };
}
/** A rule of the given kind whose value type is `V`. */
function rule<V>(r: Rule & RuleFacts): PropertyRule<V> {
  return r;
}
const onOff = (facts: RuleFacts) => oneOf(["on", "off"], facts);
const cache = (facts: RuleFacts) => oneOf(["all", "none", "metadata"], facts);
const size = (facts: RuleFacts) => rule<string | number>({ kind: "size", none: true, uninherited: "none", ...facts });
const ZSTD_LEVELS = Array.from({ length: 19 }, (_, i) => `zstd-${i + 1}`);
const ZSTD_FAST = ["zstd-fast", ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 500, 1000].map((n) => `zstd-fast-${n}`)];
const GZIP = ["gzip", ...Array.from({ length: 9 }, (_, i) => `gzip-${i + 1}`)];

/**
 * The dataset properties kvmshare manages, each declared once: the values OpenZFS 2.x accepts
 * (aliases map to the name `zfs get` prints), the TypeScript type of `ZfsDatasetProperties`'
 * field (derived below), what unset means, and the doc comment shown on that field.
 */
export const PROPERTY_RULES = {
  /** on, off, lz4, zstd, zstd-1..19, zstd-fast[-N], gzip, gzip-1..9, lzjb, zle. */
  compression: rule<string>({
    kind: "enum",
    values: ["on", "off", "lz4", "lzjb", "zle", ...GZIP, "zstd", ...ZSTD_LEVELS, ...ZSTD_FAST],
    aliases: { "gzip-6": "gzip", "zstd-3": "zstd" },
    default: "inherited",
  }),
  /** on | off. Turn off for shares (fewer metadata writes). */
  atime: onOff({ default: "inherited" }),
  /** on | off (OpenZFS). */
  relatime: onOff({ default: "inherited" }),
  /** Power of two from 512 to 16M (e.g. "128K", "1M"); above 128K needs OpenZFS large_blocks. */
  recordsize: rule<string | number>({ kind: "recordsize", default: "inherited (128K)" }),
  /** standard | always | disabled (OpenZFS only). */
  sync: oneOf(["standard", "always", "disabled"], { default: "inherited (standard)" }),
  /** A size ("50G") or "none". */
  quota: size({ default: "none" }),
  /** A size or "none". */
  refquota: size({ default: "none" }),
  /** A size or "none". */
  reservation: size({ default: "none" }),
  /** A size or "none". */
  refreservation: size({ default: "none" }),
  /** An absolute path, "none" or "legacy". */
  mountpoint: rule<string>({ kind: "mountpoint", default: "inherited from the parent" }),
  /** off | posix (alias posixacl) | nfsv4 (alias noacl = off). Needed for `acl` entries. */
  acltype: rule<string>({ kind: "enum", values: ["off", "posix", "nfsv4", "posixacl", "noacl"], aliases: { posixacl: "posix", noacl: "off" }, default: "off" }),
  /** on | off | sa | dir. `sa` keeps xattrs (and ACLs) in the dnode: faster for SMB/NFS exports. */
  xattr: rule<string>({ kind: "enum", values: ["on", "off", "sa", "dir"], aliases: { dir: "on" }, default: "on" }),
  /** latency | throughput. */
  logbias: oneOf(["latency", "throughput"], { default: "latency" }),
  /** all | none | metadata. */
  primarycache: cache({ default: "all" }),
  /** all | none | metadata. */
  secondarycache: cache({ default: "all" }),
  /** on | off | noauto. */
  canmount: oneOf(["on", "off", "noauto"], { default: "on", uninherited: "on" }),
  /** on | off. */
  readonly: onOff({ default: "off" }),
  /** on | off. */
  exec: onOff({ default: "on" }),
  /** on | off. */
  setuid: onOff({ default: "on" }),
  /** on | off. */
  devices: onOff({ default: "on" }),
  /** hidden | visible. */
  snapdir: oneOf(["hidden", "visible"], { default: "hidden" }),
  /** 1 | 2 | 3. */
  copies: rule<1 | 2 | 3 | "1" | "2" | "3">({ kind: "enum", values: ["1", "2", "3"], default: "1" }),
  /** on | off | fletcher2 | fletcher4 | sha256 | sha512 | skein | edonr | blake3. */
  checksum: rule<string>({ kind: "enum", values: ["on", "off", "fletcher2", "fletcher4", "sha256", "sha512", "skein", "edonr", "blake3", "noparity"], default: "on" }),
  /** off | on | verify | sha256[,verify] ... (think twice: dedup needs RAM). */
  dedup: rule<string>({ kind: "pattern", re: /^(on|off|verify|(sha256|sha512|skein|edonr|blake3)(,verify)?)$/, hint: "off, on, verify, or a checksum like sha256 with an optional ',verify'", default: "off" }),
} satisfies Record<string, PropertyRule<unknown>>;

/** A property kvmshare manages (a key of `PROPERTY_RULES`). */
export type ZfsPropertyName = keyof typeof PROPERTY_RULES;

/** User properties (`namespace:name`), e.g. `"com.example:owner": "team-a"`. */
export interface ZfsUserProperties {
  /** User properties (`namespace:name`), e.g. `"com.example:owner": "team-a"`. */
  [user: `${string}:${string}`]: string | undefined;
}

/**
 * Dataset properties kvmshare validates, as `zfs set` takes them: one optional field per
 * `PROPERTY_RULES` entry (its type from the rule), plus user properties.
 */
export type ZfsDatasetProperties = { [K in ZfsPropertyName]?: ValueOf<(typeof PROPERTY_RULES)[K]> } & ZfsUserProperties;

/** `PROPERTY_RULES` looked up by any name. */
const RULES: Readonly<Record<string, PropertyRule<unknown> | undefined>> = PROPERTY_RULES;

/** The rule of a property kvmshare manages, or undefined (user properties, unknown names). */
export function propertyRule(name: string): PropertyRule<unknown> | undefined {
  return Object.prototype.hasOwnProperty.call(RULES, name) ? RULES[name] : undefined;
}

const USER_PROP = /^[a-z0-9_.+-]+:[a-z0-9_.:+-]*$/;

export function isUserProperty(name: string): boolean {
  return name.includes(":");
}

function str(v: unknown): string {
  return typeof v === "number" ? String(v) : (v as string);
}

/** Every problem with a set of dataset properties, each naming the field, the value and the valid list. */
export function validateProperties(props: Record<string, unknown> | undefined, prefix: string): Problem[] {
  const out: Problem[] = [];
  if (props === undefined || isUnknown(props)) return out;
  if (typeof props !== "object" || props === null || Array.isArray(props)) {
    return [{ field: prefix.replace(/\.$/, ""), value: props, message: "must be an object of property names to values" }];
  }
  for (const [name, raw] of Object.entries(props)) {
    const field = `${prefix}${name}`;
    if (raw === undefined || isUnknown(raw)) continue;
    if (typeof raw !== "string" && typeof raw !== "number") {
      out.push({ field, value: raw, message: "must be a string or a number" });
      continue;
    }
    const v = str(raw);
    if (/[\0\n\r]/.test(v)) {
      out.push({ field, value: v, message: "must not contain NUL or newline characters" });
      continue;
    }
    if (isUserProperty(name)) {
      if (name.length > 256 || !USER_PROP.test(name)) {
        out.push({ field, value: name, message: "user property names are 'namespace:name' in lower case letters, digits, and ': + . _ -' (at most 256 characters)" });
      } else if (v.length > 8192) out.push({ field, value: v.slice(0, 40) + "...", message: "user property values are at most 8192 characters" });
      continue;
    }
    const rule = propertyRule(name);
    if (!rule) {
      out.push({ field, value: name, message: `is not a property kvmshare manages; use one of ${Object.keys(PROPERTY_RULES).join(", ")}, or a user property 'namespace:name'` });
      continue;
    }
    switch (rule.kind) {
      case "enum":
        if (!rule.values.includes(v)) {
          const shown = name === "compression" ? "on, off, lz4, zstd, zstd-1..19, zstd-fast[-N], gzip, gzip-1..9, lzjb, zle" : rule.values.join(", ");
          out.push({ field, value: v, message: `${name} must be one of ${shown}` });
        }
        break;
      case "size":
        if (!(v === "none" || (parseSize(v) !== undefined && /^\s*\d/.test(v)))) {
          out.push({ field, value: v, message: `${name} must be a size like 512M, 10G, 1.5T, a number of bytes, or 'none'` });
        }
        break;
      case "recordsize": {
        const n = parseSize(v);
        if (n === undefined || n < 512 || n > 16 * 1024 * 1024 || (n & (n - 1)) !== 0) {
          out.push({ field, value: v, message: "recordsize must be a power of two from 512 to 16M, e.g. 16K, 128K, 1M" });
        }
        break;
      }
      case "mountpoint":
        if (!(v === "none" || v === "legacy" || (v.startsWith("/") && !/\/\/|\/\.\.?(\/|$)/.test(v)))) {
          out.push({ field, value: v, message: "mountpoint must be an absolute normalized path, 'none' or 'legacy'" });
        } else if (v.startsWith("/")) {
          const system = writePathProblem(v, "tree");
          if (system) out.push({ field, value: v, message: `mountpoint ${system}` });
        }
        break;
      case "pattern":
        if (!rule.re.test(v)) out.push({ field, value: v, message: `${name} must be ${rule.hint}` });
        break;
    }
  }
  return out;
}

/** The value as `zfs get -Hp` prints it (sizes in bytes, "none" as 0, aliases resolved). */
export function normalizeValue(name: string, raw: string | number): string {
  const v = str(raw);
  if (isUserProperty(name)) return v;
  const rule = propertyRule(name);
  if (!rule) return v;
  switch (rule.kind) {
    case "enum":
      return rule.aliases?.[v] ?? v;
    case "size":
      return v === "none" ? "0" : String(parseSize(v) ?? v);
    case "recordsize":
      return String(parseSize(v) ?? v);
    case "mountpoint":
      return v.length > 1 ? v.replace(/\/+$/, "") : v;
    default:
      return v;
  }
}

/** Normalise what the host printed, for the few properties whose spelling differs between ZFS releases. */
export function normalizeObserved(name: string, v: string): string {
  const rule = propertyRule(name);
  if (name === "acltype" && rule?.kind === "enum") return rule.aliases?.[v] ?? v;
  if (rule?.kind === "size" && rule.none && v === "none") return "0";
  return v;
}

/** Every property as `zfs get -Hp` will print it. */
export function normalizeProperties(props: Record<string, string | number | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props ?? {})) if (v !== undefined) out[k] = normalizeValue(k, v);
  return out;
}

/** What these properties need from the host's ZFS. */
export function propertyRequirements(props: Record<string, unknown> | undefined, prefix: string): Requirement[] {
  const reqs: Requirement[] = [];
  for (const [name, raw] of Object.entries(props ?? {})) {
    if (raw === undefined || isUnknown(raw)) continue;
    const v = str(raw);
    const field = `${prefix}${name}`;
    if (name === "compression" && v === "lz4") reqs.push({ field, value: v, feature: "lz4" });
    if (name === "compression" && v.startsWith("zstd")) reqs.push({ field, value: v, feature: "zstd" });
    if (name === "sync") reqs.push({ field, value: v, feature: "syncProperty" });
    if (name === "relatime") reqs.push({ field, value: v, feature: "relatime" });
    if (name === "recordsize") {
      const n = parseSize(v);
      if (n !== undefined && n > 128 * 1024) reqs.push({ field, value: v, feature: "maxRecordsizeBytes", atLeast: n });
    }
    if (name === "acltype" && normalizeValue(name, v) !== "off") reqs.push({ field, value: v, feature: "posixAcl" });
    if (name === "xattr" && v === "sa") reqs.push({ field, value: v, feature: "xattrSa" });
  }
  return reqs;
}
