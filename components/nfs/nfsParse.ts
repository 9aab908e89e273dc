/**
 * Just enough parsing of export files found on a host (written by hand or by other tools) to
 * report conflicts before the server does: kernel exports(5) lines and ganesha EXPORT ids/paths.
 */
import { NfsAccess, NfsSec, NfsSquash } from "./nfsExportArgs";

/** One client of one path in an exports(5) file, with the options that decide a conflict. */
export interface KernelEntry {
  path: string;
  host: string;
  access: NfsAccess;
  squash: NfsSquash;
  sync: boolean;
  sec: NfsSec[];
}

function entryOptions(opts: string): Omit<KernelEntry, "path" | "host"> {
  const e: Omit<KernelEntry, "path" | "host"> = { access: "ro", squash: "root_squash", sync: true, sec: ["sys"] };
  for (const o of opts.split(",").map((x) => x.trim())) {
    if (o === "rw" || o === "ro") e.access = o;
    else if (o === "root_squash" || o === "all_squash" || o === "no_root_squash") e.squash = o;
    else if (o === "no_all_squash") e.squash = e.squash === "all_squash" ? "root_squash" : e.squash;
    else if (o === "sync" || o === "async") e.sync = o === "sync";
    else if (o.startsWith("sec=")) e.sec = o.slice(4).split(":") as NfsSec[];
  }
  return e;
}

/** The entries of an exports(5) file (comments, continuation lines and quoted paths handled). */
export function parseKernelExports(text: string): KernelEntry[] {
  const out: KernelEntry[] = [];
  const joined = text.replace(/\\\n/g, " ");
  for (const raw of joined.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    const m = /^("([^"]*)"|(\S+))\s*(.*)$/.exec(line);
    if (!m) continue;
    const p = m[2] ?? m[3];
    const rest = m[4];
    const items = rest.match(/[^\s(]*(\([^)]*\))?/g)?.filter((x) => x.length) ?? [];
    for (const item of items) {
      const im = /^([^(]*)(?:\(([^)]*)\))?$/.exec(item);
      if (!im) continue;
      const host = im[1] || "*";
      out.push({ path: p, host, ...entryOptions(im[2] ?? "") });
    }
  }
  return out;
}

/** Export_Id and Pseudo of every EXPORT block in a ganesha config fragment. */
export function parseGaneshaExports(text: string): { exportId?: number; pseudo?: string; path?: string }[] {
  const noComments = text.replace(/#.*$/gm, "");
  const blocks = noComments.split(/\bEXPORT\s*\{/i).slice(1);
  return blocks.map((b) => {
    const id = /\bExport_Id\s*=\s*(\d+)/i.exec(b);
    const pseudo = /\bPseudo\s*=\s*"?([^";\s]+)"?/i.exec(b);
    const p = /\bPath\s*=\s*"?([^";\s]+)"?/i.exec(b);
    return { exportId: id ? Number(id[1]) : undefined, pseudo: pseudo?.[1], path: p?.[1] };
  });
}

/** Client hosts per path in the kernel's export table (`/var/lib/nfs/etab`: `path<TAB>host(options)`). */
export function parseEtab(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const m = /^(\S+)\t([^(\s]+)\(/.exec(line);
    if (!m) continue;
    const p = m[1].replace(/\\([0-7]{3})/g, (_x, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (!out.has(p)) out.set(p, new Set());
    out.get(p)!.add(m[2]);
  }
  return out;
}

/** Declared client hosts of `path` missing from an export table. */
export function inactiveClients(etab: string, path: string, hosts: readonly string[]): string[] {
  const active = parseEtab(etab).get(path) ?? new Set<string>();
  return hosts.filter((h) => !active.has(h));
}
