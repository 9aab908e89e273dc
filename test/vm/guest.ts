/**
 * Boot a throwaway Debian guest under QEMU/TCG and hand the test a kvmshare `Host` for it.
 *
 * - q35, `-cpu max`, 1536 MiB, 2 vCPUs, TCG (KVM guests hang on this kind of machine).
 * - The cached image stays pristine: each boot writes to a qcow2 overlay in a temp dir.
 * - User networking: the guest is 10.0.2.15, this machine is 10.0.2.2 (its loopback), and the
 *   guest's sshd is forwarded to a free 127.0.0.1 port.
 * - A per-run ed25519 client key (ssh-keygen, temp dir) goes in via the kernel command line;
 *   the guest's host key fingerprint comes from the image, so host key checking stays on.
 * - Optional extra virtio disks (qcow2, serial `kvmshare-<name>`, so the guest sees
 *   /dev/disk/by-id/virtio-kvmshare-<name>) and virtiofs shares (virtiofsd + memfd memory).
 * - `shutdown()` always powers off (`poweroff -f` after unmounting network/virtiofs mounts),
 *   kills qemu and virtiofsd by PID and removes sockets and temp dirs, also when the test failed
 *   or the guest never came up. A process exit hook kills whatever is left.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Host, LocalHost, SshConnectionSpec, SshHost } from "../../core/connection";
import { freePort, killByPid } from "../fixtures/process";
import { GuestImage } from "./image";

export const QEMU = "qemu-system-x86_64";
export const VIRTIOFSD = process.env.KVMSHARE_VIRTIOFSD || "/usr/lib/qemu/virtiofsd";

export interface VirtioFsShare {
  /** Directory on this machine. */
  source: string;
  /** virtiofs tag the guest mounts (`mount -t virtiofs <tag> /mnt/x`). */
  tag: string;
}

export interface ExtraDisk {
  /** Short name: the guest sees /dev/disk/by-id/virtio-kvmshare-<name>. */
  name: string;
  sizeMiB: number;
}

export interface BootOptions {
  /** @default 1536 */
  memoryMiB?: number;
  /** @default 2 */
  cpus?: number;
  disks?: ExtraDisk[];
  shares?: VirtioFsShare[];
  /** How long to wait for SSH. @default 240000 (TCG on a busy 2-core machine) */
  bootTimeoutMs?: number;
  /** Receives progress lines. */
  log?: (line: string) => void;
}

export interface Guest {
  /** A kvmshare Host for the guest (root over SSH, host key pinned). */
  host: Host;
  /** The spec components take as their `connection` input. */
  connection: SshConnectionSpec;
  /** Serial console log of this boot. */
  consoleLog: string;
  /** Seconds from starting qemu to SSH answering. */
  bootSeconds: number;
  /** The last `lines` of the serial console. */
  consoleTail(lines?: number): string;
  /** The last lines of the guest's journal (best effort), for failure reports. */
  journalTail(lines?: number): Promise<string>;
  /** Power off and clean up. Safe to call twice and when the guest never came up. */
  shutdown(): Promise<void>;
}

const local = new LocalHost();
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of live) if (c.pid) try { process.kill(c.pid, "SIGKILL"); } catch { /* gone */ }
    });
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function waitForFile(p: string, ms: number, alive: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fs.existsSync(p)) {
    if (!alive()) throw new Error(`${what} exited before creating ${p}`);
    if (Date.now() > deadline) throw new Error(`${what} did not create ${p} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first line the server at 127.0.0.1:port sends within `ms`, or "" / an error text. */
function sshBanner(port: number, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const sock = net.connect({ host: "127.0.0.1", port });
    const finish = (v: string) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(got), ms);
    sock.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (got.includes("\n")) finish(got.split("\n")[0]);
    });
    sock.on("error", (e) => finish(`(${e.message})`));
    sock.on("close", () => finish(got));
  });
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no console log)";
  }
}

/** Boot a guest from `image`; always pair with `shutdown()` (in `afterAll`). */
export async function bootGuest(image: GuestImage, opts: BootOptions = {}): Promise<Guest> {
  const log = opts.log ?? (() => undefined);
  const memoryMiB = opts.memoryMiB ?? 1536;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-vm-"));
  const consoleLog = path.join(dir, "console.log");
  const children: ChildProcess[] = [];
  let qemu: ChildProcess | undefined;
  let host: Host | undefined;
  let done = false;

  const shutdown = async (): Promise<void> => {
    if (done) return;
    done = true;
    if (host && qemu && !exited(qemu)) {
      // Lazy unmounts first: a hard NFS mount whose server is gone can stall a clean shutdown.
      await host
        .run(
          ["sh", "-c", "sync; umount -a -l -t nfs,nfs4,cifs,smb3,virtiofs,9p >/dev/null 2>&1; sync; (sleep 1; poweroff -f) >/dev/null 2>&1 &"],
          { check: false, timeoutMs: 15_000 },
        )
        .catch(() => undefined);
    }
    await host?.close().catch(() => undefined);
    if (qemu && !(await waitExit(qemu, 20_000))) {
      log(`guest did not power off within 20 s; killing qemu (PID ${qemu.pid})`);
    }
    await killByPid(qemu, 3000);
    for (const c of children) await killByPid(c, 3000);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    // Per-run client key: never reused, gone with the temp dir.
    const keyPath = path.join(dir, "id_ed25519");
    await local.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kvmshare-vm-lane", "-f", keyPath]);
    const privateKey = fs.readFileSync(keyPath, "utf8");
    const authkey = Buffer.from(fs.readFileSync(`${keyPath}.pub`, "utf8").trim()).toString("base64");

    const overlay = path.join(dir, "root.qcow2");
    await local.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image.rootImage, overlay]);

    const port = await freePort();
    const args = [
      "-nodefaults",
      "-machine", "q35,accel=tcg",
      "-cpu", process.env.KVMSHARE_VM_CPU || "max",
      "-smp", String(opts.cpus ?? 2),
      "-m", String(memoryMiB),
      "-display", "none",
      "-serial", `file:${consoleLog}`,
      "-monitor", "none",
      "-no-reboot",
      "-kernel", image.kernel,
      "-initrd", image.initrd,
      "-append", `root=LABEL=kvmshare-root rw console=ttyS0 net.ifnames=0 quiet systemd.show_status=false kvmshare.authkey=${authkey}`,
      "-drive", `file=${overlay},if=virtio,format=qcow2,cache=unsafe`,
      "-netdev", `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:22`,
      "-device", "virtio-net-pci,netdev=n0",
      "-device", "virtio-rng-pci",
    ];
    for (const d of opts.disks ?? []) {
      if (!/^[a-z0-9-]{1,12}$/.test(d.name)) throw new Error(`disks[].name: use 1-12 of [a-z0-9-] (got '${d.name}')`);
      const file = path.join(dir, `disk-${d.name}.qcow2`);
      await local.run(["qemu-img", "create", "-q", "-f", "qcow2", file, `${d.sizeMiB}M`]);
      args.push("-drive", `file=${file},if=none,id=d-${d.name},format=qcow2,cache=unsafe`);
      args.push("-device", `virtio-blk-pci,drive=d-${d.name},serial=kvmshare-${d.name}`);
    }
    if (opts.shares?.length) {
      // vhost-user needs guest RAM that virtiofsd can map.
      args.push("-object", `memory-backend-memfd,id=mem,size=${memoryMiB}M,share=on`, "-numa", "node,memdev=mem");
      for (const [i, s] of opts.shares.entries()) {
        if (!fs.statSync(s.source).isDirectory()) throw new Error(`shares[${i}].source: not a directory (got '${s.source}')`);
        const sock = path.join(dir, `vfs${i}.sock`);
        const vfs = spawn(VIRTIOFSD, [`--socket-path=${sock}`, "-o", `source=${s.source}`, "-o", "cache=none"], {
          stdio: ["ignore", "ignore", fs.openSync(path.join(dir, `virtiofsd${i}.log`), "w")],
        });
        track(vfs);
        children.push(vfs);
        await waitForFile(sock, 10_000, () => !exited(vfs), `virtiofsd for ${s.source}`);
        args.push("-chardev", `socket,id=vfs${i},path=${sock}`);
        args.push("-device", `vhost-user-fs-pci,chardev=vfs${i},tag=${s.tag}`);
      }
    }

    const started = Date.now();
    log(`booting guest (${image.variant} image, ssh on 127.0.0.1:${port}, console ${consoleLog})`);
    const qemuErr = path.join(dir, "qemu.stderr");
    qemu = spawn(QEMU, args, { stdio: ["ignore", "ignore", fs.openSync(qemuErr, "w")] });
    track(qemu);
    const q = qemu;

    const connection: SshConnectionSpec = {
      kind: "ssh",
      host: "127.0.0.1",
      port,
      user: "root",
      privateKey,
      hostKeySha256: image.hostKeySha256,
      readyTimeoutMs: 20_000,
    };
    const deadline = started + (opts.bootTimeoutMs ?? 240_000);
    let lastError = "";
    while (!host) {
      if (exited(q)) {
        throw new Error(`qemu exited (code ${q.exitCode}) during boot:\n${tail(qemuErr, 20)}\n--- console ---\n${tail(consoleLog, 40)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`guest SSH did not answer within ${(opts.bootTimeoutMs ?? 240_000) / 1000} s (last: ${lastError})\n--- console ---\n${tail(consoleLog, 60)}`);
      }
      // QEMU accepts on the forwarded port long before sshd listens; only hand ssh2 a port that
      // already sent an SSH banner (a failing ssh2 handshake can emit more than one 'error').
      const banner = await sshBanner(port, 5000);
      if (!banner.startsWith("SSH-")) {
        lastError = banner || "no SSH banner yet";
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      try {
        host = await SshHost.connect({ ...connection, readyTimeoutMs: 15_000 });
      } catch (e) {
        lastError = (e as Error).message;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    // sshd answers before the rest of the boot is finished; wait for it so scenarios start clean.
    await host.run(["systemctl", "is-system-running", "--wait"], { check: false, timeoutMs: 180_000 });
    const bootSeconds = (Date.now() - started) / 1000;
    log(`guest up in ${bootSeconds.toFixed(1)} s`);
    const h = host;
    return {
      host: h,
      connection,
      consoleLog,
      bootSeconds,
      consoleTail: (lines = 60) => tail(consoleLog, lines),
      journalTail: async (lines = 80) =>
        (await h.run(["journalctl", "-b", "--no-pager", "-n", String(lines)], { check: false, timeoutMs: 20_000 }).catch((e) => ({ stdout: String(e) }))).stdout,
      shutdown,
    };
  } catch (e) {
    await shutdown();
    throw e;
  }
}
