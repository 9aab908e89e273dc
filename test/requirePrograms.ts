/**
 * One policy for a test file whose programs are missing, used at the top of every integration
 * test file and by the VM lane's guard:
 *
 *   const describe = requirePrograms(["smbd", "smbclient"]);
 *
 * - everything present: the returned `describe` is jest's own;
 * - something missing under CI (`CI=true`, `KVMSHARE_REQUIRE_PROGRAMS=1` or
 *   `KVMSHARE_VM_REQUIRED=1`): each describe block becomes one failing test whose message is the
 *   banner (what is missing, the Debian package that brings it, the command that installs it);
 * - something missing elsewhere: the file is skipped, and the same banner is printed once.
 *
 * Never silent, never a crash deep inside a test with ENOENT.
 */
import * as fs from "fs";
import * as path from "path";

/**
 * Program -> the package of scripts/debian-packages.txt that brings it (directly or as a
 * dependency). test/unit/requirePrograms.test.ts checks every package named here is in that list.
 */
export const PACKAGE_OF: Record<string, string> = {
  "zfs-fuse": "zfs-fuse",
  zpool: "zfs-fuse",
  zfs: "zfs-fuse",
  smbd: "samba",
  testparm: "samba",
  pdbedit: "samba",
  smbpasswd: "samba",
  smbstatus: "samba",
  smbclient: "smbclient",
  smbtorture: "samba-testsuite",
  "ganesha.nfsd": "nfs-ganesha",
  "nfs-cat": "libnfs-utils",
  "nfs-cp": "libnfs-utils",
  "nfs-ls": "libnfs-utils",
  exportfs: "nfs-kernel-server",
  krb5kdc: "krb5-kdc",
  kdb5_util: "krb5-kdc",
  "kadmin.local": "krb5-kdc",
  kadmind: "krb5-admin-server",
  kinit: "krb5-user",
  klist: "krb5-user",
  freeradius: "freeradius",
  radclient: "freeradius-utils",
  oathtool: "oathtool",
  tcpdump: "tcpdump",
  nfsconf: "nfs-kernel-server",
  ip: "iproute2",
  tc: "iproute2",
  ethtool: "ethtool",
  nft: "nftables",
  ping: "iputils-ping",
  nc: "netcat-openbsd",
  socat: "socat",
  iperf3: "iperf3",
  libvirtd: "libvirt-daemon",
  virsh: "libvirt-clients",
  "virt-xml-validate": "libvirt-clients",
  xmllint: "libxml2-utils",
  "systemd-analyze": "systemd",
  setfacl: "acl",
  getfacl: "acl",
  setfattr: "attr",
  sshd: "openssh-server",
  ssh: "openssh-client",
  "ssh-keygen": "openssh-client",
  "ssh-keyscan": "openssh-client",
  // Not a Debian package: set-up builds it from Go modules.
  pulumi: "none (built by scripts/pulumi-cli.sh)",
  vault: "none (built by scripts/vault.sh)",
  fio: "fio",
  sanoid: "sanoid",
  syncoid: "sanoid",
  rclone: "rclone",
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-img": "qemu-utils",
  mmdebstrap: "mmdebstrap",
  "dpkg-scanpackages": "dpkg-dev",
  "mkfs.ext4": "e2fsprogs",
  mke2fs: "e2fsprogs",
  busybox: "busybox-static",
  cpio: "cpio",
  modprobe: "kmod",
  depmod: "kmod",
  sysctl: "procps",
  unshare: "util-linux",
  nsenter: "util-linux",
  blkid: "util-linux",
  flock: "util-linux",
};

/** Programs several test files need together. */
export const PROGRAMS = {
  samba: ["smbd", "testparm", "pdbedit", "smbpasswd", "smbstatus", "smbclient"],
  sshd: ["sshd", "ssh-keygen"],
  /** Network namespaces and veth pairs (root). */
  netns: ["ip", "tc", "sysctl"],
  /** A libvirtd started by hand (root) and the tools around it. */
  libvirt: ["libvirtd", "virsh", "virt-xml-validate", "qemu-system-x86_64"],
  kernelNfs: ["exportfs", "nfsconf", "unshare"],
  ganesha: ["ganesha.nfsd", "nfs-cat", "nfs-cp", "nfs-ls"],
  /** A realm with OTP: MIT KDC, FreeRADIUS and the client tools. */
  kerberos: ["krb5kdc", "kdb5_util", "kadmin.local", "kinit", "klist", "freeradius", "oathtool"],
};

/** Where programs are looked for: PATH plus the sbin directories a root shell has. */
function searchDirs(): string[] {
  const dirs = (process.env.PATH ?? "").split(":").filter(Boolean);
  for (const d of ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}

/** The programs of `names` found nowhere on the search path. */
export function missingPrograms(names: string[]): string[] {
  const dirs = searchDirs();
  return names.filter((n) => !dirs.some((d) => {
    try {
      fs.accessSync(path.join(d, n), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }));
}

/** True when a missing program must fail the tests instead of skipping them. */
export function programsRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === "true" || env.KVMSHARE_REQUIRE_PROGRAMS === "1" || env.KVMSHARE_VM_REQUIRED === "1";
}

export interface Requirements {
  /** Files that must exist (e.g. kernel modules), each with the package that brings it. */
  files?: { path: string; package: string }[];
  /** The tests need root (network namespaces, FUSE, daemons on privileged paths). */
  root?: boolean;
}

/** What is missing, one line each, with the package to install; empty when nothing is. */
export function whatIsMissing(programs: string[], req: Requirements = {}): string[] {
  const lines = missingPrograms(programs).map((p) => `program '${p}' (Debian package ${PACKAGE_OF[p] ?? "unknown: add it to test/requirePrograms.ts"})`);
  for (const f of req.files ?? []) if (!fs.existsSync(f.path)) lines.push(`file ${f.path} (Debian package ${f.package})`);
  if (req.root && process.getuid?.() !== 0) lines.push("root (run the tests as root)");
  return lines;
}

/** The banner naming what is missing and how to install it. */
export function banner(file: string, missing: string[], required: boolean): string {
  const pkgs = [...new Set(missing.map((m) => /Debian package ([a-z0-9.+-]+)/.exec(m)?.[1]).filter((p): p is string => !!p))];
  const bar = "#".repeat(100);
  return [
    bar,
    `# ${required ? "MISSING PREREQUISITES (CI: this is a failure)" : "TESTS SKIPPED: missing prerequisites"}: ${file}`,
    ...missing.map((m) => `#   - ${m}`),
    pkgs.length ? `# Install: apt-get install ${pkgs.join(" ")}   (or: bash scripts/setup.sh, which installs every package the tests need)` : "#",
    required ? "#" : "# Under CI (CI=true or KVMSHARE_REQUIRE_PROGRAMS=1) this is a failure instead.",
    bar,
  ].join("\n");
}

/** The test file calling requirePrograms (for the banner). */
function callerFile(): string {
  const stack = new Error().stack?.split("\n") ?? [];
  for (const line of stack.slice(1)) {
    const m = /\(?([^()\s]+\.test\.ts):\d+:\d+\)?$/.exec(line);
    if (m) return path.relative(process.cwd(), m[1]);
  }
  return "this test file";
}

/**
 * jest's `describe` when `programs` (and `req`) are all there; otherwise one that skips the
 * block with a banner printed once, or under CI fails it with that banner.
 */
export function requirePrograms(programs: string[], req: Requirements = {}): jest.Describe {
  const missing = whatIsMissing(programs, req);
  if (!missing.length) return describe;
  const required = programsRequired();
  const text = banner(callerFile(), missing, required);
  if (!required) {
    process.stderr.write(`\n${text}\n\n`);
    return describe.skip;
  }
  const failing = ((name: string) => {
    describe(name, () => {
      test("its programs are installed", () => {
        throw new Error(`\n${text}`);
      });
    });
  }) as unknown as jest.Describe;
  return Object.assign(failing, { skip: describe.skip, only: failing, each: () => failing });
}

/** Whether one program is on the search path. */
export function haveProgram(name: string): boolean {
  return missingPrograms([name]).length === 0;
}
