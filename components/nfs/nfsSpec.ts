/**
 * NfsExport inputs: the args users write, the fully resolved spec the host-side kind gets, and
 * the per-backend defaults (paths and commands) in one table.
 */

/** Which NFS server serves the export. */
export type NfsBackend = "kernel" | "ganesha";
export type NfsAccess = "rw" | "ro";
export type NfsSquash = "root_squash" | "all_squash" | "no_root_squash";
export type NfsSec = "sys" | "krb5" | "krb5i" | "krb5p";

export const NFS_BACKENDS: readonly NfsBackend[] = ["kernel", "ganesha"];
export const NFS_ACCESS: readonly NfsAccess[] = ["rw", "ro"];
export const NFS_SQUASH: readonly NfsSquash[] = ["root_squash", "all_squash", "no_root_squash"];
export const NFS_SEC: readonly NfsSec[] = ["sys", "krb5", "krb5i", "krb5p"];

/** Options that apply to one client (or, at the export level, to every client that does not set them). */
export interface NfsClientOptions {
  /** Read-write or read-only. @default "ro" */
  access?: NfsAccess;
  /**
   * Root (or every user) mapped to the anonymous uid. `no_root_squash` lets the client's root act
   * as root on the export and needs `acknowledgeNoRootSquash: true`. @default "root_squash"
   */
  squash?: NfsSquash;
  /** Kernel backend: reply only after data is on stable storage (`sync`); `false` writes `async`. @default true */
  sync?: boolean;
  /** Security flavours, in order of preference. @default ["sys"] */
  sec?: NfsSec[];
  /** The uid squashed users become. @default the server's (65534) */
  anonuid?: number;
  /** The gid squashed users become. @default the server's (65534) */
  anongid?: number;
}

/** One client: a host name, an IP, a CIDR, a `*.domain` wildcard or `*` (with `allowAnyClient`). */
export interface NfsClient extends NfsClientOptions {
  host: string;
}

/** A client with every option resolved. */
export interface ResolvedNfsClient {
  host: string;
  access: NfsAccess;
  squash: NfsSquash;
  sync: boolean;
  sec: NfsSec[];
  anonuid?: number;
  anongid?: number;
}

/** What the host-side kind gets: every default resolved (plain JSON). */
export interface NfsExportSpec {
  /** File name stem and identity of the export on the host. */
  name: string;
  backend: NfsBackend;
  path: string;
  clients: ResolvedNfsClient[];
  /** Kernel `fsid=` (an integer, `root` or a UUID). */
  fsid?: string;
  allowAnyClient: boolean;
  acknowledgeNoRootSquash: boolean;
  /** Directory of the export files (`<name>.exports` / `<name>.conf`). */
  exportsDir: string;
  /** The export file: `<exportsDir>/<name>.exports` (kernel) or `.conf` (ganesha). */
  file: string;
  /** argv run after the export file changed or was removed. */
  reloadCommand: string[];
  /** Run the server's own parser on the new file before it goes live. */
  check: boolean;
  /** Kernel: the main exports file, taken into the check so conflicts with it are found ("" = none). */
  mainExportsFile?: string;
  /** Kernel: further `exports(5)` options (e.g. `crossmnt`). */
  extraOptions?: string[];
  /** Kernel: the export table `exportfs` writes, read to tell which clients are active ("" = not read). */
  etabPath?: string;
  /** Ganesha: `Export_Id` (1-65535, unique on the server). */
  exportId?: number;
  /** Ganesha: NFSv4 pseudo path. */
  pseudo?: string;
  /** Ganesha: `Protocols` (4, or 3 and 4). */
  protocols?: number[];
  /** Ganesha: the main config, which must include `exportsDir` (`%dir`). */
  ganeshaConfigPath?: string;
  /** Ganesha: further EXPORT block parameters. */
  extraParameters?: Record<string, string>;
  [k: string]: unknown;
}

/** Per-backend facts: where files go, what reloads the server. */
export const NFS_BACKEND_DEFAULTS: Record<NfsBackend, { exportsDir: string; suffix: string; reloadCommand: string[] }> = {
  kernel: { exportsDir: "/etc/exports.d", suffix: ".exports", reloadCommand: ["exportfs", "-ra"] },
  // nfs-ganesha.service: ExecReload=/bin/kill -HUP $MAINPID (re-reads exports).
  ganesha: { exportsDir: "/etc/ganesha/kvmshare.d", suffix: ".conf", reloadCommand: ["systemctl", "reload", "nfs-ganesha"] },
};

export const DEFAULT_MAIN_EXPORTS = "/etc/exports";
export const DEFAULT_ETAB = "/var/lib/nfs/etab";
export const DEFAULT_GANESHA_CONFIG = "/etc/ganesha/ganesha.conf";

/** Options a kernel `extraOptions` entry may not set: they have their own fields. */
export const MANAGED_KERNEL_OPTIONS: Record<string, string> = {
  rw: "access",
  ro: "access",
  sync: "sync",
  async: "sync",
  root_squash: "squash",
  no_root_squash: "squash",
  all_squash: "squash",
  no_all_squash: "squash",
  sec: "sec",
  anonuid: "anonuid",
  anongid: "anongid",
  fsid: "fsid",
};

/** EXPORT parameters a ganesha `extraParameters` entry may not set: they have their own fields. */
export const MANAGED_GANESHA_PARAMETERS: Record<string, string> = {
  export_id: "ganesha.exportId",
  path: "path",
  pseudo: "ganesha.pseudo",
  protocols: "nfsv4Only",
  access_type: "access",
  squash: "squash",
  sectype: "sec",
  anonymous_uid: "anonuid",
  anonymous_gid: "anongid",
  clients: "clients",
  fsal: "(always VFS)",
};

/** A stable default ganesha Export_Id for a name (1000-60999), so ids survive re-ordering. */
export function defaultExportId(name: string): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(name, "utf8")) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 1000 + (h % 60000);
}
