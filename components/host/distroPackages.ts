/**
 * Per-distribution facts of what kvmshare's components need on a host: package names and the
 * services they run, in one table (as geerlingguy/ansible-role-nfs keeps `vars/Debian.yml`).
 * The host's distribution is read from `/etc/os-release` (`ID`, then `ID_LIKE`).
 */

/** Something a component needs on its host. */
export type HostNeed = "nfsKernelServer" | "nfsGanesha" | "samba" | "nfsClient" | "smbClient" | "nftables" | "zfs" | "systemd" | "krb5Client" | "krb5Kdc" | "otpRadius" | "tlshd";

export const HOST_NEEDS: readonly HostNeed[] = ["nfsKernelServer", "nfsGanesha", "samba", "nfsClient", "smbClient", "nftables", "zfs", "systemd", "krb5Client", "krb5Kdc", "otpRadius", "tlshd"];

/** The package manager family of a distribution. */
export type PackageManager = "apt" | "dnf";

export interface NeedFacts {
  /** Packages to install. */
  packages: string[];
  /** systemd services that must be enabled and running (none: the component starts nothing). */
  services: string[];
}

export interface DistroFacts {
  /** `ID` values of /etc/os-release this row is for (also matched against `ID_LIKE`). */
  ids: string[];
  manager: PackageManager;
  needs: Record<HostNeed, NeedFacts>;
}

const none: NeedFacts = { packages: [], services: [] };

/** Debian (and Ubuntu, below): zfs is in contrib on Debian and needs the module built by dkms. */
const DEBIAN: DistroFacts = {
  ids: ["debian"],
  manager: "apt",
  needs: {
    nfsKernelServer: { packages: ["nfs-kernel-server"], services: ["nfs-server"] },
    nfsGanesha: { packages: ["nfs-ganesha", "nfs-ganesha-vfs"], services: ["nfs-ganesha"] },
    samba: { packages: ["samba"], services: ["smbd"] },
    nfsClient: { packages: ["nfs-common"], services: [] },
    smbClient: { packages: ["cifs-utils"], services: [] },
    nftables: { packages: ["nftables"], services: [] },
    // OpenZFS (contrib): the tools, and the module dkms builds for the running kernel (minutes;
    // needs linux-headers-$(uname -r)). zfs-fuse is not offered: pool version 23, no lz4.
    zfs: { packages: ["zfsutils-linux", "zfs-dkms"], services: [] },
    systemd: none,
    // Kerberos (components/kerberos): the client tools and gssproxy (nfsd's GSS acceptor), the
    // MIT KDC with its OTP plugin, and FreeRADIUS (rlm_totp) for the second factor. The KDC's
    // services start once KerberosRealm created the database; FreeRADIUS runs as OtpRadius's unit.
    krb5Client: { packages: ["krb5-user", "gssproxy"], services: [] },
    krb5Kdc: { packages: ["krb5-kdc", "krb5-admin-server", "krb5-otp"], services: [] },
    otpRadius: { packages: ["freeradius", "freeradius-utils"], services: [] },
    // tlshd for NFS RPC-with-TLS: packaged from Debian 13 (trixie, ktls-utils 1.0.0), not in 12
    // (bookworm; Tlshd's preflight says so). Its service is the Tlshd component's own HostService.
    tlshd: { packages: ["ktls-utils"], services: [] },
  },
};

/** Ubuntu ships zfs.ko with its kernels: the tools are enough. */
const UBUNTU: DistroFacts = {
  ...DEBIAN,
  ids: ["ubuntu"],
  needs: { ...DEBIAN.needs, zfs: { packages: ["zfsutils-linux"], services: [] } },
};

/** Fedora, RHEL and rebuilds (ID_LIKE="rhel fedora"); zfs comes from the OpenZFS repository. */
const FEDORA: DistroFacts = {
  ids: ["fedora", "rhel", "centos", "rocky", "almalinux"],
  manager: "dnf",
  needs: {
    nfsKernelServer: { packages: ["nfs-utils"], services: ["nfs-server"] },
    nfsGanesha: { packages: ["nfs-ganesha", "nfs-ganesha-vfs"], services: ["nfs-ganesha"] },
    samba: { packages: ["samba"], services: ["smb"] },
    nfsClient: { packages: ["nfs-utils"], services: [] },
    smbClient: { packages: ["cifs-utils"], services: [] },
    nftables: { packages: ["nftables"], services: [] },
    zfs: { packages: ["zfs"], services: [] },
    systemd: none,
    krb5Client: { packages: ["krb5-workstation", "gssproxy"], services: [] },
    krb5Kdc: { packages: ["krb5-server"], services: [] },
    otpRadius: { packages: ["freeradius", "freeradius-utils"], services: [] },
    tlshd: { packages: ["ktls-utils"], services: [] },
  },
};

/** Every distribution kvmshare knows, most specific first. */
export const DISTROS: readonly DistroFacts[] = [UBUNTU, DEBIAN, FEDORA];

/** The fields of /etc/os-release kvmshare reads. */
export interface OsRelease {
  id: string;
  idLike: string[];
  versionId: string;
  prettyName: string;
}

/** Parse /etc/os-release (`KEY=value`, values optionally quoted). */
export function parseOsRelease(text: string): OsRelease {
  const kv: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2];
    if (/^".*"$|^'.*'$/.test(v)) v = v.slice(1, -1).replace(/\\(["\\$`])/g, "$1");
    kv[m[1]] = v;
  }
  return { id: (kv.ID ?? "").toLowerCase(), idLike: (kv.ID_LIKE ?? "").toLowerCase().split(/\s+/).filter(Boolean), versionId: kv.VERSION_ID ?? "", prettyName: kv.PRETTY_NAME ?? kv.ID ?? "unknown" };
}

/** The table row for a host (its `ID`, else the first `ID_LIKE` kvmshare knows), or undefined. */
export function distroOf(os: OsRelease): DistroFacts | undefined {
  return DISTROS.find((d) => d.ids.includes(os.id)) ?? os.idLike.map((l) => DISTROS.find((d) => d.ids.includes(l))).find((d) => d !== undefined);
}

/** The packages for a list of needs (plus extra names), deduplicated, in order. */
export function packagesFor(distro: DistroFacts, needs: readonly HostNeed[], extra: readonly string[] = []): string[] {
  return [...new Set([...needs.flatMap((n) => distro.needs[n].packages), ...extra])];
}

/** The services for a list of needs on a distribution. */
export function servicesFor(distro: DistroFacts, needs: readonly HostNeed[]): string[] {
  return [...new Set(needs.flatMap((n) => distro.needs[n].services))];
}
