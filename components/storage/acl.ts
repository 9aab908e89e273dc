/**
 * POSIX ACL entries for a dataset's mount point: validated and normalised the way `getfacl`
 * prints them, applied with `setfacl -m`, read back with `getfacl`.
 */
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";

const TAGS: Record<string, string> = { u: "user", user: "user", g: "group", group: "group", m: "mask", mask: "mask", o: "other", other: "other" };
const ENTRY = /^(?:(d|default):)?(u|user|g|group|m|mask|o|other):([^:\s,]*):([rwx-]{1,3})$/;

/** `d:u:alice:rw` -> `default:user:alice:rw-` (getfacl's spelling); undefined when malformed. */
export function normalizeAclEntry(entry: string): string | undefined {
  const m = ENTRY.exec(entry.trim());
  if (!m) return undefined;
  const [, def, tag, who, perms] = m;
  const p = ["r", "w", "x"].map((c) => (perms.includes(c) ? c : "-")).join("");
  const t = TAGS[tag];
  if ((t === "mask" || t === "other") && who !== "") return undefined;
  return `${def ? "default:" : ""}${t}:${who}:${p}`;
}

export function validateAcl(entries: unknown, field = "acl"): Problem[] {
  if (entries === undefined) return [];
  if (!Array.isArray(entries)) return [{ field, value: entries, message: "must be an array of setfacl entries like 'u:1000:rwx' or 'd:g:kvm:rx'" }];
  const out: Problem[] = [];
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    const n = typeof e === "string" ? normalizeAclEntry(e) : undefined;
    if (!n) {
      out.push({ field: `${field}[${i}]`, value: e, message: "must be a setfacl entry [d:]{u|g}:<name or id>:<rwx> or [d:]{m|o}::<rwx>, e.g. 'u:1000:rwx', 'd:g:kvm:r-x'" });
      return;
    }
    const key = n.slice(0, n.lastIndexOf(":"));
    if (seen.has(key)) out.push({ field: `${field}[${i}]`, value: e, message: `sets ${key} twice; keep one entry per user/group` });
    seen.add(key);
  });
  return out;
}

/**
 * The entries `getfacl` prints for a path (comments and effective-rights notes dropped), with
 * names and with numeric ids, so an entry declared either way is found.
 */
export async function readAcl(host: Host, path: string): Promise<string[]> {
  const out: string[] = [];
  for (const numeric of [false, true]) {
    const r = await host.run(["getfacl", "--omit-header", "--absolute-names", ...(numeric ? ["--numeric"] : []), "--", path]);
    for (const l of r.stdout.split("\n").map((x) => x.replace(/\s+#.*$/, "").trim())) {
      if (l && !l.startsWith("#") && !out.includes(l)) out.push(l);
    }
  }
  return out;
}

/** For each declared entry, the entry the host has for the same tag and qualifier (or `<absent>`). */
export function observedFor(declared: string[], live: string[]): string[] {
  return declared.map((d) => {
    const n = normalizeAclEntry(d) ?? d;
    const key = n.slice(0, n.lastIndexOf(":") + 1);
    return live.find((l) => l.startsWith(key)) ?? `${key}<absent>`;
  });
}

export async function applyAcl(host: Host, path: string, entries: string[]): Promise<void> {
  if (!entries.length) return;
  await host.run(["setfacl", "-m", entries.map((e) => normalizeAclEntry(e) ?? e).join(","), "--", path]);
}
