/**
 * The VM lane's guest root image: a stock Debian built with mmdebstrap, in two releases:
 *   - `bookworm` (Debian 12): booted with the Debian kernel of this machine's `linux-image-amd64`
 *     (its /lib/modules copied in);
 *   - `trixie` (Debian 13): its own `linux-image-amd64` (6.12) installed in the chroot, vmlinuz and
 *     initrd copied out of it; the recipe's versions come from a private apt index of trixie
 *     under the cache directory (`.apt-trixie`), so this machine's apt configuration is untouched.
 * The release is orthogonal to the variant: `ensureImage(variant, log, { release })`, by default
 * `KVMSHARE_VM_RELEASE` (bookworm when unset).
 *
 * Built once and cached under `${KVMSHARE_VM_CACHE:-/var/cache/kvmshare-vm}/<variant>-<key>/`,
 * where the key hashes the kernel version and package version, the recipe (suite, components,
 * package list with the versions this machine's apt knows for them) and BUILDER_VERSION. A build
 * goes to a temp directory that is renamed into place, under a lock, so two runs never build at
 * once and a crashed build never leaves a half image behind.
 *
 * Variants: `base` (kernel NFS server/client, CIFS, sshd) and `openzfs` (base + OpenZFS 2.1 from
 * contrib, zfs.ko built by dkms inside the chroot for the guest kernel; ~4 min cold), `bare` (base
 * without the NFS/CIFS packages) and `krb5` (base + MIT KDC, krb5-otp, FreeRADIUS, gssproxy).
 *
 * The image holds no client key: `authorized_keys` is set at every boot from the kernel command
 * line (`kvmshare.authkey=<base64 of the public key>`, a public value) by a oneshot unit ordered
 * before sshd. Its SSH host key is generated per image and its fingerprint recorded in meta.json,
 * so the test connects with host key checking on.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { LocalHost } from "../../core/connection";

/** Bump when the customisation below changes in a way the recipe hash does not see. */
export const BUILDER_VERSION = 4;

export type ImageVariant = "base" | "openzfs" | "bare" | "krb5";

/** Debian releases the lane boots. */
export const RELEASES = ["bookworm", "trixie"] as const;
export type Release = (typeof RELEASES)[number];

/** The release a test file runs on: `KVMSHARE_VM_RELEASE` (bookworm when unset). */
export function vmRelease(): Release {
  const v = process.env.KVMSHARE_VM_RELEASE || "bookworm";
  if (!(RELEASES as readonly string[]).includes(v)) {
    throw new Error(`VM lane: KVMSHARE_VM_RELEASE=${JSON.stringify(v)} is not a release the lane builds; use one of ${RELEASES.join(", ")}`);
  }
  return v as Release;
}

/**
 * Trixie's sources (the release, its updates and security): the image's mmdebstrap mirrors and
 * the private index the recipe key reads versions from.
 */
const TRIXIE_SOURCES = [
  "http://deb.debian.org/debian trixie",
  "http://deb.debian.org/debian trixie-updates",
  "http://deb.debian.org/debian-security trixie-security",
];

/**
 * How old the private trixie index may be before a lookup refreshes it (`apt-get update` costs
 * 1-25 s depending on load; a new kernel or package reaches the key within this time).
 */
const TRIXIE_INDEX_MAX_AGE_S = Number(process.env.KVMSHARE_VM_TRIXIE_INDEX_MAX_AGE || 3600);

/**
 * How long mmdebstrap may take (and a second run waits for the first one's build): the trixie
 * openzfs image (dkms builds OpenZFS 2.3 for 6.12) did not finish in 30 min at load 17 here.
 */
const BUILD_TIMEOUT_MS = 60 * 60_000;

/** Trixie's extra packages in every variant: its own kernel + initrd, tlshd, tcpdump. */
export const TRIXIE_PACKAGES = ["linux-image-amd64", "initramfs-tools", "ktls-utils", "tcpdump"];

/** Packages of every image (on top of `--variant=minbase`). */
const BASE_PACKAGES = [
  "systemd-sysv",
  "udev",
  "kmod",
  "iproute2",
  "procps", // sysctl
  "ethtool",
  "mount",
  "nfs-common",
  "nfs-kernel-server",
  "cifs-utils",
  "keyutils", // cifs upcalls
  "openssh-server",
  "acl",
];

/** What the `bare` variant leaves out: HostPackages installs them during the test (bare-guest.test.ts). */
export const BARE_LEAVES_OUT = ["nfs-common", "nfs-kernel-server", "cifs-utils", "keyutils"];

/** Extra packages of the OpenZFS variant (`linux-headers-<ver>` is added per kernel). */
const OPENZFS_PACKAGES = ["zfs-dkms", "zfsutils-linux", "sanoid"];

/**
 * Extra packages of the `krb5` variant: a KDC with the OTP pre-authentication plugin, FreeRADIUS
 * (rlm_totp) for the second factor, the Kerberos clients, gssproxy, and tcpdump/oathtool for the
 * scenarios (nfs-kerberos.test.ts).
 */
export const KRB5_PACKAGES = ["krb5-kdc", "krb5-admin-server", "krb5-otp", "krb5-user", "freeradius", "freeradius-utils", "oathtool", "gssproxy", "tcpdump"];

/** Daemons of the krb5 variant the scenarios configure and start themselves: not started at boot. */
const KRB5_DISABLED_UNITS = ["krb5-kdc.service", "krb5-admin-server.service", "freeradius.service"];

/** Units that only slow a throwaway TCG guest's boot down. */
const MASKED_UNITS = [
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "dpkg-db-backup.timer",
  "e2scrub_all.timer",
  "e2scrub_reap.service",
  "fstrim.timer",
  "man-db.timer",
  "systemd-networkd-wait-online.service",
  "getty@tty1.service",
  "zfs-zed.service",
  "zfs-import-cache.service",
  "zfs-import-scan.service",
  "zfs-mount.service",
  "zfs-share.service",
  "zfs-volume-wait.service",
];

export interface GuestImage {
  variant: ImageVariant;
  release: Release;
  key: string;
  dir: string;
  /** Raw ext4 root filesystem (never written by a guest: each boot uses a qcow2 overlay). */
  rootImage: string;
  kernel: string;
  initrd: string;
  kernelVersion: string;
  /** `SHA256:...` fingerprint of the guest's ed25519 host key, as `ssh-keygen -l` prints it. */
  hostKeySha256: string;
  /** Versions of the packages installed in the image, for reports. */
  packages: Record<string, string>;
  /** How long the image took to build, or 0 when it came from the cache. */
  buildSeconds: number;
  /** Whether this call built it (cold) or found it (warm). */
  fromCache: boolean;
  /** Seconds this call spent (lookup, lock wait and build). */
  elapsedSeconds: number;
}

interface Meta {
  variant: ImageVariant;
  release?: Release;
  key: string;
  kernelVersion: string;
  hostKeySha256: string;
  packages: Record<string, string>;
  buildSeconds: number;
  builtAt: string;
  recipe: Recipe;
}

interface Recipe {
  builder: number;
  suite: string;
  variant: ImageVariant;
  components: string[];
  packages: string[];
  kernelVersion: string;
  kernelPackageVersion: string;
  /** Candidate versions this machine's apt knows for the listed packages ("?" when unknown). */
  knownVersions: Record<string, string>;
  masked: string[];
  /** Only in trixie recipes (absent for bookworm, so bookworm keys stay what they were). */
  release?: Release;
}

const local = new LocalHost();

export function cacheRoot(): string {
  return process.env.KVMSHARE_VM_CACHE || "/var/cache/kvmshare-vm";
}

async function out(argv: string[], timeoutMs = 60_000): Promise<string> {
  return (await local.run(argv, { timeoutMs })).stdout.trim();
}

/** The guest kernel: the one `linux-image-amd64` depends on (or KVMSHARE_VM_KERNEL). */
export async function guestKernelVersion(): Promise<string> {
  const forced = process.env.KVMSHARE_VM_KERNEL;
  if (forced) return forced;
  const r = await local.run(["dpkg-query", "-W", "-f=${Depends}", "linux-image-amd64"], { check: false });
  const m = /linux-image-(\S+?)(?:\s|,|$)/.exec(r.stdout);
  if (r.code !== 0 || !m) {
    throw new Error(
      "VM lane: no guest kernel. Install Debian's kernel package on this machine " +
        "(`apt-get install linux-image-amd64`) or set KVMSHARE_VM_KERNEL to a version with " +
        "/boot/vmlinuz-<ver>, /boot/initrd.img-<ver> and /lib/modules/<ver>.",
    );
  }
  return m[1];
}

/**
 * The `krb5` variant's kernel: Debian 12's 6.1.176 (`linux-image-6.1.0-50-amd64`), not the current
 * one. On 6.1.192 (`6.1.0-57-amd64`) a krb5p mount fails with EIO at getroot while krb5 and krb5i
 * work (docs/kerberos.md); on 6.1.176 krb5p works, measured in the same scenario. Override with
 * KVMSHARE_VM_KRB5_KERNEL (or KVMSHARE_VM_KERNEL for every variant).
 */
export const KRB5_KERNEL = "6.1.0-50-amd64";

/** The packages of `variant` (before the release's additions). */
function variantPackages(variant: ImageVariant, kernelVersion: string): string[] {
  return variant === "openzfs"
    ? [...BASE_PACKAGES, ...OPENZFS_PACKAGES, `linux-headers-${kernelVersion}`]
    : variant === "bare"
      ? BASE_PACKAGES.filter((p) => !BARE_LEAVES_OUT.includes(p))
      : variant === "krb5"
        ? [...BASE_PACKAGES, ...KRB5_PACKAGES]
        : [...BASE_PACKAGES];
}

/** `apt-cache policy` candidates: package -> version ("?" when apt knows none). */
async function candidates(aptOpts: string[], packages: string[]): Promise<Record<string, string>> {
  const known: Record<string, string> = {};
  const policy = await local.run(["apt-cache", ...aptOpts, "policy", ...packages], { check: false });
  let current = "";
  for (const line of policy.stdout.split("\n")) {
    const name = /^(\S+):$/.exec(line);
    if (name) current = name[1];
    const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (cand && current) known[current] = cand[1] === "(none)" ? "?" : cand[1];
  }
  return known;
}

async function recipeFor(variant: ImageVariant, release: Release): Promise<Recipe> {
  if (release === "trixie") return trixieRecipe(variant);
  const kernelVersion =
    variant === "krb5" && !process.env.KVMSHARE_VM_KERNEL ? process.env.KVMSHARE_VM_KRB5_KERNEL || KRB5_KERNEL : await guestKernelVersion();
  for (const p of [`/boot/vmlinuz-${kernelVersion}`, `/boot/initrd.img-${kernelVersion}`, `/lib/modules/${kernelVersion}`]) {
    if (!fs.existsSync(p)) {
      throw new Error(`VM lane: ${p} is missing; install linux-image-${kernelVersion} (it provides the ${variant} guest's kernel; scripts/debian-packages.txt lists it)`);
    }
  }
  const kpkg = await local.run(["dpkg-query", "-W", "-f=${Version}", `linux-image-${kernelVersion}`], { check: false });
  const packages = variantPackages(variant, kernelVersion);
  return makeRecipe("bookworm", variant, packages, kernelVersion, kpkg.code === 0 ? kpkg.stdout.trim() : "?", await candidates([], packages));
}

/** A recipe; its fields in the order bookworm keys were always hashed in (`release` only for trixie). */
function makeRecipe(release: Release, variant: ImageVariant, packages: string[], kernelVersion: string, kernelPackageVersion: string, knownVersions: Record<string, string>): Recipe {
  const recipe: Recipe = {
    builder: BUILDER_VERSION,
    suite: release,
    variant,
    components: variant === "openzfs" ? ["main", "contrib"] : ["main"],
    packages,
    kernelVersion,
    kernelPackageVersion,
    knownVersions,
    masked: MASKED_UNITS,
  };
  if (release !== "bookworm") recipe.release = release;
  return recipe;
}

/**
 * apt options for the private trixie index under the cache directory (refreshed when older than
 * TRIXIE_INDEX_MAX_AGE_S; the last index is used when the mirror cannot be reached).
 */
async function trixieApt(): Promise<string[]> {
  const dir = path.join(cacheRoot(), ".apt-trixie");
  for (const d of ["lists/partial", "cache/archives/partial"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const list = path.join(dir, "sources.list");
  fs.writeFileSync(list, TRIXIE_SOURCES.map((s) => `deb ${s} main contrib\n`).join(""));
  const opts = [
    `-oDir::Etc::SourceList=${list}`,
    "-oDir::Etc::SourceParts=/dev/null",
    `-oDir::State::Lists=${path.join(dir, "lists")}`,
    `-oDir::Cache=${path.join(dir, "cache")}`,
    // Keep apt's binary caches (images often set them to "", which re-parses the index every call: ~4 s).
    `-oDir::Cache::pkgcache=${path.join(dir, "cache/pkgcache.bin")}`,
    `-oDir::Cache::srcpkgcache=${path.join(dir, "cache/srcpkgcache.bin")}`,
    "-oDir::State::status=/dev/null",
    "-oAPT::Architecture=amd64",
    "-oDebug::NoLocking=1",
  ];
  const haveLists = () => fs.readdirSync(path.join(dir, "lists")).some((f) => f.includes("_Packages"));
  const stamp = path.join(dir, "updated");
  const age = fs.existsSync(stamp) ? (Date.now() - fs.statSync(stamp).mtimeMs) / 1000 : Infinity;
  if (age < TRIXIE_INDEX_MAX_AGE_S && haveLists()) return opts;
  const upd = await local.run(["apt-get", ...opts, "-q", "update"], { check: false, timeoutMs: 300_000 });
  if (upd.code === 0 && !/^(W|E): /m.test(upd.stderr)) fs.writeFileSync(stamp, new Date().toISOString());
  else if (!haveLists()) throw new Error(`VM lane: could not read trixie's package index (are Debian's mirrors reachable?):\n${upd.stderr.trim()}`);
  return opts;
}

/** apt options that read `release`'s index: none for bookworm (this machine's own), the private index for trixie. */
export async function releaseAptOptions(release: Release): Promise<string[]> {
  return release === "trixie" ? trixieApt() : [];
}

async function trixieRecipe(variant: ImageVariant): Promise<Recipe> {
  const apt = await trixieApt();
  const show = await local.run(["apt-cache", ...apt, "show", "--no-all-versions", "linux-image-amd64"], { check: false });
  const m = /^Depends:.*?\blinux-image-(\S+?)(?:\s|,|$)/m.exec(show.stdout);
  if (show.code !== 0 || !m) throw new Error(`VM lane: trixie's index names no kernel for linux-image-amd64:\n${show.stdout}${show.stderr}`);
  const kernelVersion = m[1];
  const packages = [...variantPackages(variant, kernelVersion), ...TRIXIE_PACKAGES];
  const knownVersions = await candidates(apt, [...packages, `linux-image-${kernelVersion}`]);
  const missing = packages.filter((p) => knownVersions[p] === "?" || !knownVersions[p]);
  if (missing.length) throw new Error(`VM lane: trixie's index has no ${missing.join(", ")} (the ${variant} image needs them)`);
  return makeRecipe("trixie", variant, packages, kernelVersion, knownVersions[`linux-image-${kernelVersion}`], knownVersions);
}

function recipeKey(recipe: Recipe): string {
  return crypto.createHash("sha256").update(JSON.stringify(recipe)).digest("hex").slice(0, 16);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A lock directory (mkdir is atomic) holding the owner's PID; a dead owner's lock is taken over. */
async function withLock<T>(lockDir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, "pid"), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(path.join(lockDir, "pid"), "utf8"));
      } catch {
        /* being created or removed right now */
      }
      if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`VM lane: waited ${timeoutMs / 1000}s for the image build lock ${lockDir} (held by PID ${owner})`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function readMeta(dir: string): Meta | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8")) as Meta;
    for (const f of ["root.img", "vmlinuz", "initrd.img"]) if (!fs.existsSync(path.join(dir, f))) return undefined;
    return meta;
  } catch {
    return undefined;
  }
}

function toImage(dir: string, meta: Meta, fromCache: boolean, started: number): GuestImage {
  return {
    variant: meta.variant,
    release: meta.release ?? "bookworm",
    key: meta.key,
    dir,
    rootImage: path.join(dir, "root.img"),
    kernel: path.join(dir, "vmlinuz"),
    initrd: path.join(dir, "initrd.img"),
    kernelVersion: meta.kernelVersion,
    hostKeySha256: meta.hostKeySha256,
    packages: meta.packages,
    buildSeconds: meta.buildSeconds,
    fromCache,
    elapsedSeconds: (Date.now() - started) / 1000,
  };
}

/**
 * The cached image for `variant`, built first when the recipe changed or it was never built.
 * `log` receives progress lines (the build takes ~1 min for base, ~4 min for openzfs).
 */
export async function ensureImage(
  variant: ImageVariant,
  log: (line: string) => void = () => undefined,
  opts: { release?: Release } = {},
): Promise<GuestImage> {
  const started = Date.now();
  const release = opts.release ?? vmRelease();
  const root = cacheRoot();
  fs.mkdirSync(root, { recursive: true });
  const recipe = await recipeFor(variant, release);
  const key = recipeKey(recipe);
  const name = imageName(variant, release);
  const dir = path.join(root, `${name}-${key}`);
  const cached = readMeta(dir);
  if (cached) return toImage(dir, cached, true, started);

  return withLock(path.join(root, `.lock-${name}`), BUILD_TIMEOUT_MS, async () => {
    const again = readMeta(dir); // another run may have built it while we waited
    if (again) return toImage(dir, again, true, started);
    log(`building the ${release} ${variant} guest image (key ${key}) under ${root}`);
    const meta = await build(recipe, key, dir, log);
    // Old images of the same release and variant are dead weight (~1-2 GB each).
    for (const entry of fs.readdirSync(root)) {
      if (new RegExp(`^${name}-[0-9a-f]{16}$`).test(entry) && entry !== `${name}-${key}`) {
        fs.rmSync(path.join(root, entry), { recursive: true, force: true });
      }
    }
    return toImage(dir, meta, false, started);
  });
}

/** Cache directory prefix: `<variant>` for bookworm (as before releases), `trixie-<variant>`. */
function imageName(variant: ImageVariant, release: Release): string {
  return release === "bookworm" ? variant : `${release}-${variant}`;
}

const AUTHKEY_SCRIPT = `#!/bin/sh
# kvmshare VM lane: install the per-run client key passed as kvmshare.authkey=<base64>.
set -e
mkdir -p /root/.ssh
chmod 700 /root/.ssh
: > /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    kvmshare.authkey=*) printf '%s' "\${arg#kvmshare.authkey=}" | base64 -d >> /root/.ssh/authorized_keys; echo >> /root/.ssh/authorized_keys ;;
  esac
done
`;

const AUTHKEY_UNIT = `[Unit]
Description=kvmshare VM lane: authorized_keys from the kernel command line
DefaultDependencies=no
After=local-fs.target
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/kvmshare-authkey
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
`;

// Static address on QEMU user networking: the host is 10.0.2.2, its DNS proxy 10.0.2.3.
const NET_UNIT = `[Unit]
Description=kvmshare VM lane: static 10.0.2.15/24 via 10.0.2.2 on eth0
DefaultDependencies=no
After=systemd-udevd.service
Before=network.target network-online.target ssh.service
Wants=network.target

[Service]
Type=oneshot
ExecStart=/sbin/ip link set lo up
ExecStart=/sbin/ip link set eth0 up
ExecStart=/sbin/ip addr replace 10.0.2.15/24 dev eth0
ExecStart=/sbin/ip route replace default via 10.0.2.2
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
WantedBy=network-online.target
`;

const SSHD_CONFIG = `# kvmshare VM lane
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 64
MaxSessions 64
`;

async function build(recipe: Recipe, key: string, dir: string, log: (line: string) => void): Promise<Meta> {
  const t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(path.dirname(dir), `.build-${path.basename(dir)}-`));
  const trixie = recipe.release === "trixie";
  const rootfs = path.join(tmp, "rootfs");
  const ver = recipe.kernelVersion;
  try {
    const args = [
      "mmdebstrap",
      "--variant=minbase",
      `--components=${recipe.components.join(",")}`,
      `--include=${recipe.packages.join(",")}`,
      "--aptopt=Acquire::Retries \"3\"",
      "--dpkgopt=path-exclude=/usr/share/man/*",
      "--dpkgopt=path-exclude=/usr/share/doc/*",
      "--dpkgopt=path-include=/usr/share/doc/*/copyright",
      "--dpkgopt=path-exclude=/usr/share/locale/*",
      "--dpkgopt=path-exclude=/usr/share/info/*",
      `--logfile=${path.join(tmp, "mmdebstrap.log")}`,
      recipe.suite,
      rootfs,
      // Bookworm: mmdebstrap's default mirror. Trixie: the release, its updates and security.
      ...(trixie ? TRIXIE_SOURCES.map((s) => `deb ${s} ${recipe.components.join(" ")}`) : []),
    ];
    log(`  ${args.join(" ")}`);
    try {
      await local.run(args, { timeoutMs: BUILD_TIMEOUT_MS });
    } catch (e) {
      const logText = fs.existsSync(path.join(tmp, "mmdebstrap.log"))
        ? fs.readFileSync(path.join(tmp, "mmdebstrap.log"), "utf8").split("\n").slice(-40).join("\n")
        : "";
      throw new Error(`VM lane: mmdebstrap failed (are Debian's mirrors reachable?):\n${(e as Error).message}\n${logText}`);
    }
    log(`  mmdebstrap done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    if (recipe.variant === "openzfs") {
      const built = (await out(["find", path.join(rootfs, "lib/modules", ver), "-name", "zfs.ko*"])).trim();
      if (!built) {
        const makeLogs = (await out(["sh", "-c", 'cat "$1"/var/lib/dkms/zfs/*/build/make.log 2>/dev/null | tail -40', "sh", rootfs]));
        throw new Error(`VM lane: dkms did not build zfs.ko for ${ver} in the image chroot:\n${makeLogs}`);
      }
      // The build tree and headers are ~1 GB the guest never needs.
      await local.run(["sh", "-c", 'rm -rf "$1"/usr/src/linux-headers-* "$1"/usr/src/linux-kbuild-* "$1"/var/lib/dkms/zfs/*/build', "sh", rootfs]);
    }

    if (trixie) {
      // The image's own kernel: its package ran depmod and update-initramfs (MODULES=most) in the chroot.
      const boot = path.join(rootfs, "boot");
      for (const f of [`vmlinuz-${ver}`, `initrd.img-${ver}`]) {
        if (!fs.existsSync(path.join(boot, f))) throw new Error(`VM lane: the trixie chroot has no /boot/${f} (linux-image-${ver} or initramfs-tools did not install)`);
      }
      // What root=LABEL= needs: in the initrd (MODULES=most) or built into the kernel (modules.builtin).
      const initrd = await out(["lsinitramfs", path.join(boot, `initrd.img-${ver}`)], 300_000);
      const builtin = fs.readFileSync(path.join(rootfs, "lib/modules", ver, "modules.builtin"), "utf8");
      const lacking = ["virtio_blk", "virtio_pci", "ext4"].filter((m) => !new RegExp(`/${m}\\.ko`).test(initrd) && !new RegExp(`/${m}\\.ko$`, "m").test(builtin));
      if (lacking.length) throw new Error(`VM lane: the trixie initrd lacks ${lacking.join(", ")}, which the kernel does not build in either (root=LABEL= needs them)`);
      await local.run(["cp", path.join(boot, `vmlinuz-${ver}`), path.join(tmp, "vmlinuz")]);
      await local.run(["cp", path.join(boot, `initrd.img-${ver}`), path.join(tmp, "initrd.img")]);
      // The guest boots from vmlinuz/initrd.img next to the image: the copies in /boot are dead weight.
      await local.run(["sh", "-c", 'rm -f "$1"/boot/vmlinuz-* "$1"/boot/initrd.img-*', "sh", rootfs]);
    } else {
      // The stock modules of the guest kernel; `-n` keeps what dkms built (updates/dkms/zfs.ko).
      await local.run(["mkdir", "-p", path.join(rootfs, "lib/modules")]);
      await local.run(["cp", "-an", `/lib/modules/${ver}`, path.join(rootfs, "lib/modules/")], { timeoutMs: 600_000 });
      for (const link of ["build", "source"]) fs.rmSync(path.join(rootfs, "lib/modules", ver, link), { force: true });
      await local.run(["depmod", "-b", rootfs, ver]);
      await local.run(["cp", `/boot/vmlinuz-${ver}`, path.join(tmp, "vmlinuz")]);
      await local.run(["cp", `/boot/initrd.img-${ver}`, path.join(tmp, "initrd.img")]);
    }

    const w = (rel: string, content: string, mode = 0o644) => {
      const p = path.join(rootfs, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content, { mode });
      fs.chmodSync(p, mode);
    };
    w("etc/hostname", "kvmshare-guest\n");
    w("etc/hosts", "127.0.0.1 localhost\n127.0.1.1 kvmshare-guest\n");
    fs.rmSync(path.join(rootfs, "etc/resolv.conf"), { force: true });
    w("etc/resolv.conf", "nameserver 10.0.2.3\n");
    w("etc/fstab", "LABEL=kvmshare-root / ext4 rw,relatime 0 0\n");
    w("usr/local/sbin/kvmshare-authkey", AUTHKEY_SCRIPT, 0o755);
    w("etc/systemd/system/kvmshare-authkey.service", AUTHKEY_UNIT);
    w("etc/systemd/system/kvmshare-net.service", NET_UNIT);
    w("etc/ssh/sshd_config.d/kvmshare.conf", SSHD_CONFIG);
    w("etc/modules-load.d/kvmshare.conf", recipe.variant === "openzfs" ? "zfs\n" : "");
    for (const unit of ["kvmshare-authkey.service", "kvmshare-net.service"]) {
      const wants = path.join(rootfs, "etc/systemd/system/multi-user.target.wants");
      fs.mkdirSync(wants, { recursive: true });
      fs.rmSync(path.join(wants, unit), { force: true });
      fs.symlinkSync(`/etc/systemd/system/${unit}`, path.join(wants, unit));
    }
    if (recipe.variant === "krb5") {
      for (const unit of KRB5_DISABLED_UNITS) fs.rmSync(path.join(rootfs, "etc/systemd/system/multi-user.target.wants", unit), { force: true });
    }
    for (const unit of recipe.masked) {
      const p = path.join(rootfs, "etc/systemd/system", unit);
      fs.rmSync(p, { force: true });
      fs.symlinkSync("/dev/null", p);
    }
    // A fresh host key per image; its fingerprint is what the tests pin.
    await local.run(["sh", "-c", 'rm -f "$1"/etc/ssh/ssh_host_*', "sh", rootfs]);
    const hostKey = path.join(rootfs, "etc/ssh/ssh_host_ed25519_key");
    await local.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kvmshare-guest", "-f", hostKey]);
    const fp = (await out(["ssh-keygen", "-l", "-E", "sha256", "-f", `${hostKey}.pub`])).split(/\s+/)[1];
    if (!fp?.startsWith("SHA256:")) throw new Error(`VM lane: could not read the guest host key fingerprint (${fp})`);
    fs.writeFileSync(path.join(rootfs, "etc/machine-id"), "");

    // The bare variant's package database, for the test to compute what a local repository must hold.
    if (recipe.variant === "bare") fs.copyFileSync(path.join(rootfs, "var/lib/dpkg/status"), path.join(tmp, "dpkg-status"));
    const pkgList = await out(["chroot", rootfs, "dpkg-query", "-W", "-f=${Package} ${Version}\\n"]);
    const all: Record<string, string> = {};
    for (const line of pkgList.split("\n")) {
      const [n, v] = line.split(" ");
      if (n) all[n] = v;
    }
    const packages: Record<string, string> = {};
    for (const p of recipe.packages) packages[p] = all[p] ?? "missing";
    const missing = Object.entries(packages).filter(([, v]) => v === "missing").map(([p]) => p);
    if (missing.length) throw new Error(`VM lane: packages missing from the image: ${missing.join(", ")}`);

    // Room for what the scenarios write (files for pools, test data), on top of the tree.
    const used = Number((await out(["du", "-sb", "--apparent-size", rootfs])).split(/\s+/)[0]);
    const sizeMiB = Math.ceil((used * 1.15) / 2 ** 20) + 1536;
    await local.run(["truncate", "-s", `${sizeMiB}M`, path.join(tmp, "root.img")]);
    await local.run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "kvmshare-root", "-d", rootfs, path.join(tmp, "root.img")], {
      timeoutMs: 600_000,
    });
    await removeBuildDir(rootfs);

    const meta: Meta = {
      variant: recipe.variant,
      release: recipe.release,
      key,
      kernelVersion: ver,
      hostKeySha256: fp,
      packages,
      buildSeconds: (Date.now() - t0) / 1000,
      builtAt: new Date().toISOString(),
      recipe,
    };
    fs.writeFileSync(path.join(tmp, "meta.json"), JSON.stringify(meta, null, 2));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    log(`  ${recipe.variant} image ready in ${meta.buildSeconds.toFixed(0)} s (${sizeMiB} MiB, host key ${fp})`);
    return meta;
  } catch (e) {
    await removeBuildDir(tmp);
    throw e;
  }
}

/** Remove a failed build's directory without ever descending into something mounted inside it. */
async function removeBuildDir(dir: string): Promise<void> {
  const mounts = fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + "/")))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await local.run(["umount", "-l", m], { check: false });
  await local.run(["rm", "-rf", "--one-file-system", dir], { check: false, timeoutMs: 600_000 });
}
