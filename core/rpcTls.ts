/**
 * What a host needs for NFS RPC-with-TLS (RFC 9289), probed at preview: a kernel with the TLS
 * handshake upcall (Linux >= 6.5, CONFIG_NET_HANDSHAKE=y) and kernel TLS (the `tls` module), and
 * for `xprtsec=` in exports(5), nfs-utils >= 2.6.3 (its exportfs first parsed the option:
 * nfs-utils commit ab6d2c6b "exports: Add an xprtsec= export option", released in 2.6.3).
 * Shared by NfsExport, GuestMount and Tlshd; the version parsing is pure (tested with fixed
 * probe outputs), the probe runs argv only (values as positional parameters).
 */
import { Host } from "./connection";
import { Problem } from "./errors";

/** The first kernel with the handshake upcall NFS uses for RPC-with-TLS. */
export const MIN_TLS_KERNEL = "6.5";
/** The first nfs-utils whose exportfs takes `xprtsec=`. */
export const MIN_XPRTSEC_NFS_UTILS = "2.6.3";

/** `a.b.c` compared numerically (missing parts are 0): <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** The leading `major.minor[.patch]` of a kernel release or a package version (`1:2.6.2-4+deb12u1` -> `2.6.2`). */
export function leadingVersion(v: string): string | undefined {
  return /^(?:\d+:)?(\d+\.\d+(?:\.\d+)?)/.exec(v.trim())?.[1];
}

/** What the kernel probe printed: `uname -r`, then the config's relevant lines (if readable). */
export interface KernelFacts {
  release: string;
  /** The kernel config's text, or undefined when neither /boot/config-<release> nor /proc/config.gz could be read. */
  config?: string;
  /** `modinfo tls` (or /sys/module/tls) found the module. */
  tlsModule: boolean;
}

/** Why this kernel cannot do RPC-with-TLS (empty: it can, as far as can be seen). */
export function kernelTlsGaps(k: KernelFacts): string[] {
  const gaps: string[] = [];
  const v = leadingVersion(k.release);
  if (!v || compareVersions(v, MIN_TLS_KERNEL) < 0) gaps.push(`its kernel is ${JSON.stringify(k.release)}, and RPC-with-TLS needs Linux >= ${MIN_TLS_KERNEL} (e.g. Debian 13's 6.12)`);
  if (k.config !== undefined) {
    if (!/^CONFIG_NET_HANDSHAKE=y$/m.test(k.config)) gaps.push("its kernel is built without CONFIG_NET_HANDSHAKE=y (the TLS handshake upcall tlshd serves)");
    if (!/^CONFIG_TLS=[ym]$/m.test(k.config)) gaps.push("its kernel is built without kernel TLS (CONFIG_TLS)");
    else if (/^CONFIG_TLS=m$/m.test(k.config) && !k.tlsModule) gaps.push("its kernel's tls module is not installed (modinfo tls finds none)");
  } else if (!k.tlsModule) {
    gaps.push("it has no kernel TLS module (modinfo tls finds none, and no kernel config was readable to tell more)");
  }
  return gaps;
}

// Constant scripts (nothing of the user's reaches them).
const KERNEL_PROBE = `r=$(uname -r)
printf '%s\\n' "$r"
if modinfo tls >/dev/null 2>&1 || [ -d /sys/module/tls ]; then echo tls-module; else echo no-tls-module; fi
if [ -r "/boot/config-$r" ]; then grep -E '^CONFIG_(NET_HANDSHAKE|TLS)=' "/boot/config-$r"; echo config-read
elif [ -r /proc/config.gz ] && command -v zcat >/dev/null 2>&1; then zcat /proc/config.gz | grep -E '^CONFIG_(NET_HANDSHAKE|TLS)='; echo config-read
fi
:`;

/** The nfs-utils version from the package database (Debian: nfs-common/nfs-kernel-server; rpm: nfs-utils). */
const NFS_UTILS_PROBE = `if command -v dpkg-query >/dev/null 2>&1; then
  v=$(dpkg-query -W -f='\${Version}' nfs-kernel-server 2>/dev/null || dpkg-query -W -f='\${Version}' nfs-common 2>/dev/null) && [ -n "$v" ] && { printf '%s\\n' "$v"; exit 0; }
fi
if command -v rpm >/dev/null 2>&1; then rpm -q --qf '%{VERSION}\\n' nfs-utils 2>/dev/null && exit 0; fi
exit 1`;

/** Parse the kernel probe's output. */
export function parseKernelProbe(out: string): KernelFacts {
  const lines = out.split("\n");
  const configRead = lines.includes("config-read");
  return {
    release: lines[0]?.trim() ?? "",
    tlsModule: lines.includes("tls-module"),
    config: configRead ? lines.filter((l) => l.startsWith("CONFIG_")).join("\n") : undefined,
  };
}

export async function probeKernel(host: Host): Promise<KernelFacts> {
  return parseKernelProbe((await host.run(["sh", "-c", KERNEL_PROBE], { check: false })).stdout);
}

/** The host's nfs-utils version as its package manager has it (undefined: not found). */
export async function probeNfsUtils(host: Host): Promise<string | undefined> {
  const r = await host.run(["sh", "-c", NFS_UTILS_PROBE], { check: false });
  return r.code === 0 ? r.stdout.trim().split("\n")[0] || undefined : undefined;
}

/** Why this nfs-utils cannot export with `xprtsec=` (undefined: it can, or its version is unknown). */
export function nfsUtilsGap(version: string | undefined): string | undefined {
  const v = version === undefined ? undefined : leadingVersion(version);
  if (v === undefined || compareVersions(v, MIN_XPRTSEC_NFS_UTILS) >= 0) return undefined;
  return `its nfs-utils is ${JSON.stringify(version)}, and exportfs takes xprtsec= from nfs-utils ${MIN_XPRTSEC_NFS_UTILS} (Debian 12 ships 2.6.2, Debian 13 2.8.3)`;
}

/**
 * The problems of a host that cannot do RPC-with-TLS, on `field` (with `value`): the kernel's
 * (unless `kernel: false`, for an export that lists only `none`), and with `nfsUtils` (an
 * export's `xprtsec=`) its nfs-utils'. One problem listing every gap.
 */
export async function rpcTlsProblems(host: Host, o: { field: string; value: unknown; nfsUtils: boolean; kernel?: boolean; fix?: string }): Promise<Problem[]> {
  const gaps = o.kernel === false ? [] : kernelTlsGaps(await probeKernel(host));
  if (o.nfsUtils) {
    const g = nfsUtilsGap(await probeNfsUtils(host));
    if (g) gaps.push(g);
  }
  if (!gaps.length) return [];
  return [{ field: o.field, value: o.value, message: `needs NFS RPC-with-TLS, which ${host.label} cannot do: ${gaps.join("; ")}. Use a host with Linux >= ${MIN_TLS_KERNEL} and nfs-utils >= ${MIN_XPRTSEC_NFS_UTILS} (Debian 13), ${o.fix ?? "or remove xprtsec"}` }];
}
