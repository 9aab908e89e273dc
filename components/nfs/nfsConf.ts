/**
 * NFS facts of the host (Debian's nfs-kernel-server and nfs-ganesha): where files go, what
 * reloads or restarts a server, and the options that have their own fields. One table; the
 * defaults of NfsExport and KernelNfsServer point here.
 */

/** Debian's NFS servers: paths and commands. */
export const NFS_DEBIAN = {
  kernel: { exportsDir: "/etc/exports.d", suffix: ".exports", reloadCommand: ["exportfs", "-ra"] },
  // nfs-ganesha.service: ExecReload=/bin/kill -HUP $MAINPID (re-reads exports).
  ganesha: { exportsDir: "/etc/ganesha/kvmshare.d", suffix: ".conf", reloadCommand: ["systemctl", "reload", "nfs-ganesha"] },
  /** The kernel's main exports file. */
  mainExportsFile: "/etc/exports",
  /** The export table `exportfs` writes. */
  etabPath: "/var/lib/nfs/etab",
  /** Ganesha's main config. */
  ganeshaConfigPath: "/etc/ganesha/ganesha.conf",
  /** nfs-utils >= 2.5 reads /etc/nfs.conf.d/*.conf. */
  nfsConfPath: "/etc/nfs.conf.d/kvmshare.conf",
  /** NFS versions need an nfsd restart. */
  nfsdRestartCommand: ["systemctl", "restart", "nfs-server"],
};

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
  xprtsec: "xprtsec",
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
