/**
 * Parse `[user@]host:path` destinations and build the SSH connection spec from CLI-style
 * options: identity file (or agent, or ~/.ssh defaults), port, cipher, and the host key,
 * pinned either by `--host-key SHA256:...` or from ~/.ssh/known_hosts.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SshConnectionSpec, sshFingerprint } from "../core/connection";
import { TransferError } from "./errors";

export interface RemotePath {
  user?: string;
  host: string;
  path: string;
}

/**
 * `user@host:/path`, `host:path`, `[::1]:/path` -> remote; anything else (including a path
 * with a slash before its first colon, like `./a:b`) -> `undefined` (a local path), as scp does.
 */
export function parseRemote(spec: string): RemotePath | undefined {
  const m = /^(?:([^@/:\s]+)@)?(\[[0-9A-Fa-f:.]+\]|[^@/:[\]\s]+):(.*)$/.exec(spec);
  if (!m) return undefined;
  const host = m[2].startsWith("[") ? m[2].slice(1, -1) : m[2];
  // `host:` alone means "into the login directory", as with scp.
  return { user: m[1], host, path: m[3] === "" ? "./" : m[3] };
}

export interface SshCliOptions {
  port?: number;
  identity?: string;
  cipher?: string[];
  hostKey?: string;
  insecureIgnoreHostKey?: boolean;
  /** Where known_hosts lives. @default ~/.ssh/known_hosts */
  knownHosts?: string;
}

/** Preference order of host key types (ssh2's default order), to pick the key the server will show. */
const KEY_PREFERENCE = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];

/** The fingerprint of `host`'s preferred key in a known_hosts file (hashed names too), if any. */
export function knownHostFingerprint(host: string, port: number, file: string): string | undefined {
  if (!fs.existsSync(file)) return undefined;
  const name = port === 22 ? host : `[${host}]:${port}`;
  let out: string;
  try {
    out = execFileSync("ssh-keygen", ["-F", name, "-f", file], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return undefined; // not found (exit 1) or no ssh-keygen
  }
  const keys = out
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 3 && !f[0].startsWith("@"))
    .map((f) => ({ type: f[1], blob: Buffer.from(f[2], "base64") }));
  keys.sort((a, b) => rank(a.type) - rank(b.type));
  return keys.length ? sshFingerprint(keys[0].blob) : undefined;
}

function rank(type: string): number {
  const i = KEY_PREFERENCE.indexOf(type === "ssh-rsa" ? "rsa-sha2-512" : type);
  return i < 0 ? KEY_PREFERENCE.length : i;
}

/** Build the connection spec; throws USAGE/CONNECTION errors that say what to pass. */
export function sshSpecFor(remote: RemotePath, o: SshCliOptions): SshConnectionSpec {
  const port = o.port ?? 22;
  const spec: SshConnectionSpec = { kind: "ssh", host: remote.host, port, user: remote.user ?? os.userInfo().username };
  if (o.identity) {
    try {
      spec.privateKey = fs.readFileSync(o.identity, "utf8");
    } catch (e) {
      throw new TransferError("USAGE", `--identity: cannot read ${o.identity} (${(e as Error).message})`);
    }
    if (process.env.KVMSHARE_SSH_PASSPHRASE) spec.passphrase = process.env.KVMSHARE_SSH_PASSPHRASE;
  } else if (process.env.SSH_AUTH_SOCK) {
    spec.agent = process.env.SSH_AUTH_SOCK;
  } else {
    const home = os.homedir();
    const found = ["id_ed25519", "id_ecdsa", "id_rsa"].map((n) => path.join(home, ".ssh", n)).find((p) => fs.existsSync(p));
    if (!found) throw new TransferError("USAGE", "no SSH key: pass --identity FILE, or run an ssh-agent (SSH_AUTH_SOCK)");
    spec.privateKey = fs.readFileSync(found, "utf8");
  }
  if (o.cipher?.length) spec.ciphers = o.cipher;
  if (o.insecureIgnoreHostKey) {
    spec.insecureIgnoreHostKey = true;
  } else if (o.hostKey) {
    if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(o.hostKey)) {
      throw new TransferError("USAGE", `--host-key: expected a fingerprint like SHA256:<43 base64 characters> as 'ssh-keygen -lf' prints it (got '${o.hostKey}')`);
    }
    spec.hostKeySha256 = o.hostKey;
  } else {
    const fp = knownHostFingerprint(remote.host, port, o.knownHosts ?? path.join(os.homedir(), ".ssh", "known_hosts"));
    if (!fp) {
      throw new TransferError(
        "CONNECTION",
        `${remote.host}:${port} is not in known_hosts: pass --host-key SHA256:... (get it with 'ssh-keyscan -p ${port} ${remote.host} | ssh-keygen -lf -'), ` +
          "or --insecure-ignore-host-key for a throwaway test host",
      );
    }
    spec.hostKeySha256 = fp;
  }
  return spec;
}
