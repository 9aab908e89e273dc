/**
 * An sshd inside a network namespace this process creates, reached over a veth pair: the SSH
 * fixture of the transfer integration tests and of `npm run bench:transfer`. Own host and
 * client keys, own config, never the machine's /etc/ssh; killed by PID; `stop()` deletes the
 * namespace (and with it the veth pair). Root only.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export interface NetnsSshd {
  namespace: string;
  /** The sshd's address (inside the namespace). */
  host: string;
  port: number;
  user: string;
  /** Client private key (OpenSSH format) and its file. */
  privateKey: string;
  identityFile: string;
  /** `SHA256:...` of the host key. */
  hostKeySha256: string;
  /** Scratch directory holding keys and config (remove with stop()). */
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

function ip(args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

async function waitForPort(host: string, port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, host, () => (c.end(), r(true)));
      c.on("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${host}:${port}`);
}

export async function startNetnsSshd(opts: { maxSessions?: number } = {}): Promise<NetnsSshd> {
  const id = crypto.randomBytes(3).toString("hex");
  const ns = `kstr-${id}`;
  const hostIf = `kst${id}a`;
  const nsIf = `kst${id}b`;
  const net2 = 100 + crypto.randomInt(100);
  const net3 = crypto.randomInt(256);
  const hostAddr = `10.${net2}.${net3}.1`;
  const nsAddr = `10.${net2}.${net3}.2`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kstr-sshd-"));
  fs.chmodSync(dir, 0o700);
  let sshd: ChildProcess | undefined;
  const cleanup = async () => {
    if (sshd?.pid && sshd.exitCode === null && sshd.signalCode === null) {
      const exited = new Promise((r) => sshd!.once("exit", r));
      process.kill(sshd.pid, "SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer);
    }
    try {
      ip(["netns", "del", ns]);
    } catch {
      /* already gone */
    }
    try {
      ip(["link", "del", hostIf]);
    } catch {
      /* removed with the namespace */
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    ip(["netns", "add", ns]);
    ip(["link", "add", hostIf, "type", "veth", "peer", "name", nsIf]);
    ip(["link", "set", nsIf, "netns", ns]);
    ip(["addr", "add", `${hostAddr}/30`, "dev", hostIf]);
    ip(["link", "set", hostIf, "up"]);
    ip(["netns", "exec", ns, "ip", "addr", "add", `${nsAddr}/30`, "dev", nsIf]);
    ip(["netns", "exec", ns, "ip", "link", "set", nsIf, "up"]);
    ip(["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);

    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client_key")]);
    fs.copyFileSync(path.join(dir, "client_key.pub"), path.join(dir, "authorized_keys"));
    const port = 22;
    const sessions = opts.maxSessions ?? 64;
    fs.mkdirSync("/run/sshd", { recursive: true });
    fs.writeFileSync(
      path.join(dir, "sshd_config"),
      [
        `Port ${port}`,
        `ListenAddress ${nsAddr}`,
        `HostKey ${path.join(dir, "host_key")}`,
        `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        `MaxStartups ${sessions}`,
        `MaxSessions ${sessions}`,
        "Subsystem sftp internal-sftp",
        `PidFile ${path.join(dir, "sshd.pid")}`,
      ].join("\n") + "\n",
    );
    // `ip netns exec` execs sshd in place, so this PID is sshd's own.
    sshd = spawn("ip", ["netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: "ignore" });
    await waitForPort(nsAddr, port);
    const hostKeySha256 = execFileSync("ssh-keygen", ["-l", "-f", path.join(dir, "host_key.pub")]).toString().split(" ")[1];
    return {
      namespace: ns,
      host: nsAddr,
      port,
      user: os.userInfo().username,
      privateKey: fs.readFileSync(path.join(dir, "client_key"), "utf8"),
      identityFile: path.join(dir, "client_key"),
      hostKeySha256,
      dir,
      pid: sshd.pid as number,
      stop: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
