/** Pure rendering of an export file from its resolved spec (kernel exports(5) line or ganesha EXPORT block). */
import { render } from "../../core/render";
import { NfsExportSpec, ResolvedNfsClient, xprtsecList } from "./nfsExportArgs";

/** The exports(5) option list of one client. */
export function kernelOptions(cl: ResolvedNfsClient, s: NfsExportSpec): string {
  const o = [cl.access, cl.sync ? "sync" : "async", cl.squash, "no_subtree_check", `sec=${cl.sec.join(":")}`];
  if (cl.anonuid !== undefined) o.push(`anonuid=${cl.anonuid}`);
  if (cl.anongid !== undefined) o.push(`anongid=${cl.anongid}`);
  if (cl.xprtsec !== undefined) o.push(`xprtsec=${xprtsecList(cl.xprtsec).join(":")}`);
  if (s.fsid !== undefined) o.push(`fsid=${s.fsid}`);
  o.push(...(s.extraOptions ?? []));
  return o.join(",");
}

/** ganesha CLIENT block settings of one client. */
export function ganeshaClientSettings(cl: ResolvedNfsClient): { key: string; value: string }[] {
  const out = [
    { key: "Access_Type", value: cl.access.toUpperCase() },
    { key: "Squash", value: cl.squash },
    { key: "SecType", value: cl.sec.join(", ") },
  ];
  if (cl.anonuid !== undefined) out.push({ key: "Anonymous_Uid", value: String(cl.anonuid) });
  if (cl.anongid !== undefined) out.push({ key: "Anonymous_Gid", value: String(cl.anongid) });
  return out;
}

/** The export file's content. */
export function renderNfsExport(s: NfsExportSpec): string {
  if (s.backend === "ganesha") {
    return render("ganesha-export.hbs", {
      name: s.name,
      exportId: s.exportId,
      path: s.path,
      pseudo: s.pseudo,
      protocols: (s.protocols ?? [4]).join(", "),
      parameters: Object.entries(s.extraParameters ?? {}).map(([key, value]) => ({ key, value })),
      clients: s.clients.map((cl) => ({ host: cl.host, settings: ganeshaClientSettings(cl) })),
    });
  }
  return render("exports.hbs", {
    name: s.name,
    path: s.path,
    clients: s.clients.map((cl) => ({ host: cl.host, options: kernelOptions(cl, s) })),
  });
}
