/**
 * OpenSSH client processes as a transport: the system's `ssh` (its AES-GCM runs on AES-NI in C,
 * one process per stream, so streams spread over cores) where ssh2 frames every packet in
 * JavaScript on Node's one thread. Used for the data of `kvmshare copy` over SSH and for
 * `zfs send | ssh zfs receive`.
 *
 * Host-key pinning is kept: the host's keys are fetched with `ssh-keyscan`, only the one whose
 * SHA-256 fingerprint equals the pinned `hostKeySha256` goes into a temporary known_hosts, and
 * ssh runs with `StrictHostKeyChecking=yes` against that file alone (so ssh itself checks that
 * the server holds that key). The private key goes to ssh as a 0600 file in a 0700 temporary
 * directory (never in argv), removed by `close()`; an agent socket is passed as `IdentityAgent`.
 * `-F /dev/null`: the user's ~/.ssh/config is not read (the ssh2 path does not read it either).
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SshConnectionSpec, sshFingerprint } from "./connection";
import { quote } from "./shell";

/** Ciphers tried in this order unless the connection names its own: AES-GCM first (AES-NI). */
export const OPENSSH_CIPHERS = ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr"];

/** Why OpenSSH cannot carry this connection (then callers use ssh2), or undefined when it can. */
export function opensshUnsupported(spec: SshConnectionSpec): string | undefined {
  if (spec.passphrase && !spec.agent) return "the private key has a passphrase (ssh would prompt for it)";
  if (!spec.privateKey && !spec.agent) return "no private key and no agent";
  if (!which("ssh")) return "no `ssh` program on this machine";
  if (!spec.insecureIgnoreHostKey && !which("ssh-keyscan")) return "no `ssh-keyscan` program on this machine (needed to pin the host key)";
  return undefined;
}

/** Is `prog` an executable on $PATH? */
export function which(prog: string): boolean {
  return (process.env.PATH ?? "/usr/bin:/bin").split(":").some((d) => {
    try {
      fs.accessSync(path.join(d || ".", prog), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function run(argv: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(argv[0], argv.slice(1), { timeout: timeoutMs, maxBuffer: 1 << 20 }, (e, stdout) => (e && !stdout ? reject(e) : resolve(stdout))),
  );
}

export interface OpenSshOptions {
  /**
   * Share one TCP connection between all processes (ControlMaster). Measured: one connection
   * means one ssh master process does all the crypto, so separate connections (the default)
   * are faster wherever there is more than one core. @default false
   */
  multiplex?: boolean;
  /**
   * The host's public key (SSH wire format) as another connection already checked it against
   * the pin: written to known_hosts directly instead of asking `ssh-keyscan` (one connection
   * per key type) for it. Ignored unless its fingerprint is the pinned one.
   */
  hostKey?: Buffer;
}

/** A prepared OpenSSH client for one host: `argv(command)` runs `command` there. */
export class OpenSshClient {
  private master: ChildProcess | undefined;

  private constructor(
    private readonly spec: SshConnectionSpec,
    private readonly dir: string,
    private readonly opts: string[],
    readonly label: string,
  ) {}

  /** Write the pinned known_hosts and the key file; start the control master when multiplexing. */
  static async prepare(spec: SshConnectionSpec, o: OpenSshOptions = {}): Promise<OpenSshClient> {
    const why = opensshUnsupported(spec);
    if (why) throw new Error(`OpenSSH transport unavailable: ${why}`);
    const port = spec.port ?? 22;
    const user = spec.user ?? "root";
    const label = `${user}@${spec.host}:${port}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-ssh-"));
    fs.chmodSync(dir, 0o700);
    try {
      const opts = ["-F", "/dev/null", "-T", "-p", String(port), "-l", user, "-o", "BatchMode=yes", "-o", "Compression=no", "-o", "LogLevel=ERROR"];
      opts.push("-c", (spec.ciphers?.length ? spec.ciphers : OPENSSH_CIPHERS).join(","));
      if (spec.insecureIgnoreHostKey) {
        opts.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null");
      } else {
        const name = port === 22 ? spec.host : `[${spec.host}]:${port}`;
        const known = o.hostKey && sshFingerprint(o.hostKey) === spec.hostKeySha256 ? o.hostKey : undefined;
        const scanned = known
          ? `${spec.host} ${known.subarray(4, 4 + known.readUInt32BE(0)).toString("latin1")} ${known.toString("base64")}\n`
          : await run(["ssh-keyscan", "-T", "30", "-p", String(port), spec.host], 45_000).catch(() => "");
        if (!scanned.trim()) throw new Error(`${label}: ssh-keyscan got no answer from ${spec.host}:${port} within 30 s (host key not fetched)`);
        const lines = scanned
          .split("\n")
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f.length >= 3 && !f[0].startsWith("#"))
          .filter((f) => sshFingerprint(Buffer.from(f[2], "base64")) === spec.hostKeySha256);
        if (!lines.length) throw new Error(`${label}: ssh-keyscan found no host key with fingerprint ${spec.hostKeySha256}`);
        const kh = path.join(dir, "known_hosts");
        fs.writeFileSync(kh, lines.map((f) => `${name} ${f[1]} ${f[2]}\n`).join(""), { mode: 0o600 });
        opts.push("-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${kh}`, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "CheckHostIP=no");
      }
      if (spec.privateKey) {
        const key = path.join(dir, "id");
        fs.writeFileSync(key, spec.privateKey.endsWith("\n") ? spec.privateKey : spec.privateKey + "\n", { mode: 0o600 });
        opts.push("-i", key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none");
      } else {
        opts.push("-o", `IdentityAgent=${spec.agent}`);
      }
      const client = new OpenSshClient(spec, dir, opts, label);
      if (o.multiplex) await client.startMaster();
      return client;
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  private async startMaster(): Promise<void> {
    const cp = path.join(this.dir, "cm");
    this.master = spawn("ssh", [...this.opts, "-M", "-N", "-o", `ControlPath=${cp}`, this.spec.host], { stdio: ["ignore", "ignore", "pipe"] });
    this.opts.push("-o", `ControlPath=${cp}`, "-o", "ControlMaster=no");
    const until = Date.now() + 15_000;
    while (!fs.existsSync(cp)) {
      if (this.master.exitCode !== null || Date.now() > until) throw new Error(`${this.label}: the ssh control master did not start`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** argv that runs `argv` (quoted through core/shell) on the host. */
  argv(remote: readonly string[]): string[] {
    return ["ssh", ...this.opts, this.spec.host, "--", remote.map(quote).join(" ")];
  }

  /** argv that starts the host's `name` subsystem (e.g. sftp) with its protocol on stdin/stdout. */
  subsystemArgv(name: string): string[] {
    return ["ssh", ...this.opts, "-s", this.spec.host, name];
  }

  /** Stop the control master (if any) and delete the key and known_hosts. */
  close(): void {
    if (this.master && this.master.exitCode === null) this.master.kill("SIGTERM");
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
