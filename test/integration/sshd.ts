/**
 * Test/bench helper: an sshd on 127.0.0.1 with its own config, host key and client key in `dir`
 * (no real /etc touched), and the `SshConnectionSpec` that reaches it with the host key pinned.
 * Kill it by `proc.pid` when done. The one sshd fixture of the tests: reuse it.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { SshConnectionSpec } from "../../core/connection";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export async function startSshd(dir: string, extraConfig: string[] = []): Promise<{ proc: ChildProcess; spec: SshConnectionSpec }> {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client_key")]);
  fs.copyFileSync(path.join(dir, "client_key.pub"), path.join(dir, "authorized_keys"));
  const port = await freePort();
  fs.mkdirSync("/run/sshd", { recursive: true });
  fs.writeFileSync(
    path.join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${path.join(dir, "host_key")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "MaxSessions 32",
      ...extraConfig,
      `PidFile ${path.join(dir, "sshd.pid")}`,
    ].join("\n") + "\n",
  );
  const proc = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: "ignore" });
  let listening = false;
  for (let i = 0; i < 100 && !listening; i++) {
    listening = await new Promise<boolean>((r) => {
      const c = net.connect(port, "127.0.0.1", () => (c.end(), r(true)));
      c.on("error", () => r(false));
    });
    if (!listening) await new Promise((r) => setTimeout(r, 100));
  }
  if (!listening) {
    if (proc.pid) process.kill(proc.pid, "SIGTERM");
    throw new Error(`sshd did not listen on 127.0.0.1:${port} within 10 s`);
  }
  const fp = execFileSync("ssh-keygen", ["-l", "-f", path.join(dir, "host_key.pub")], { encoding: "utf8" }).split(" ")[1];
  return {
    proc,
    spec: { kind: "ssh", host: "127.0.0.1", port, user: "root", privateKey: fs.readFileSync(path.join(dir, "client_key"), "utf8"), hostKeySha256: fp },
  };
}

