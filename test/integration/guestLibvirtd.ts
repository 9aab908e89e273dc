/**
 * A private libvirtd for tests: started by hand in its own mount namespace (`unshare -m`) with
 * tmpfs over /run and temp dirs bound over /etc/libvirt, /var/lib/libvirt, /var/cache/libvirt and
 * /var/log/libvirt, so it never touches the machine's real libvirt config or state. Its socket is
 * in the temp dir; clients use `qemu:///system?socket=<dir>/sock/libvirt-sock`. QEMU runs as
 * root without a security driver (a throwaway test daemon), console/stdio go to files.
 * `stop()` kills it by PID (and the QEMU/virtiofsd children by PID via `virsh destroy`).
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface Libvirtd {
  dir: string;
  uri: string;
  pid: number;
  virsh(...args: string[]): string;
  stop(): Promise<void>;
}

const START = [
  "set -e",
  'T="$1"',
  "mount -t tmpfs tmpfs /run",
  "mkdir -p /run/libvirt",
  // A machine without libvirt-daemon-system has none of these mount points (a fresh one failed here).
  "mkdir -p /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt",
  'mount --bind "$T/etc" /etc/libvirt',
  'mount --bind "$T/lib" /var/lib/libvirt',
  'mount --bind "$T/cache" /var/cache/libvirt',
  'mount --bind "$T/log" /var/log/libvirt',
  'exec libvirtd -f "$T/etc/libvirtd.conf"',
].join("\n");

export async function startLibvirtd(): Promise<Libvirtd> {
  // /dev/kvm usable by the kvm group, or libvirt's capability probing (QEMU started per probe) is slow.
  try {
    execFileSync("chgrp", ["kvm", "/dev/kvm"], { stdio: "pipe" });
    execFileSync("chmod", ["660", "/dev/kvm"], { stdio: "pipe" });
  } catch {
    /* no /dev/kvm: TCG only, still fine */
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-libvirtd-"));
  for (const d of ["etc", "lib", "cache", "log", "sock"]) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(
    path.join(dir, "etc/libvirtd.conf"),
    `unix_sock_dir = "${dir}/sock"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\nlog_outputs = "3:file:${dir}/log/libvirtd.log"\n`,
  );
  fs.writeFileSync(
    path.join(dir, "etc/qemu.conf"),
    'user = "root"\ngroup = "root"\ndynamic_ownership = 0\nsecurity_driver = "none"\nstdio_handler = "file"\nnamespaces = [ ]\n',
  );
  const child: ChildProcess = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", START, "sh", dir], {
    stdio: ["ignore", fs.openSync(path.join(dir, "daemon.out"), "w"), fs.openSync(path.join(dir, "daemon.err"), "w")],
    detached: true,
  });
  const pid = child.pid!;
  const uri = `qemu:///system?socket=${dir}/sock/libvirt-sock`;
  const virsh = (...args: string[]) => execFileSync("virsh", ["-q", "-c", uri, ...args], { encoding: "utf8", stdio: "pipe" });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      virsh("list", "--all");
      break;
    } catch (e) {
      if (Date.now() > deadline || child.exitCode !== null) {
        const err = fs.readFileSync(path.join(dir, "daemon.err"), "utf8");
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* already gone */
        }
        throw new Error(`private libvirtd did not come up: ${(e as Error).message}\n${err}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    dir,
    uri,
    pid,
    virsh,
    async stop() {
      try {
        for (const name of virsh("list", "--name").split("\n").filter(Boolean)) virsh("destroy", name);
      } catch {
        /* daemon already gone */
      }
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        /* gone */
      }
      for (let i = 0; i < 50 && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      if (child.exitCode === null) process.kill(pid, "SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A minimal TCG domain (direct kernel boot, serial console to a file) for passthrough tests. */
export function tcgDomainXml(name: string, dir: string, opts: { initrd?: string; cmdline?: string; memoryMiB?: number } = {}): string {
  const kernel = fs.readdirSync("/boot").find((f) => f.startsWith("vmlinuz-"));
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${opts.memoryMiB ?? 256}</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>/boot/${kernel}</kernel>
    ${opts.initrd ? `<initrd>${opts.initrd}</initrd>` : ""}
    <cmdline>${opts.cmdline ?? "console=ttyS0 panic=-1"}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='${dir}/console-${name}.log'/></serial>
  </devices>
</domain>
`;
}
