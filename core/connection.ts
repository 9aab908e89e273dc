/**
 * Where host-side work runs: this machine, or another one over SSH (ssh2).
 * `run(argv)` never goes through a shell on the local side; over SSH the argv is quoted
 * with `quoteArgv` because an SSH exec is always a remote shell command line.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import { Client, ConnectConfig } from "ssh2";
import { quoteArgv } from "./shell";
import { redact } from "./errors";

/** How to reach a host. Plain JSON, so it can travel in resource inputs and state. */
export type ConnectionSpec = LocalConnectionSpec | SshConnectionSpec;

export interface LocalConnectionSpec {
  kind: "local";
}

export interface SshConnectionSpec {
  /** `"ssh"` (the other kind, `{ kind: "local" }`, is this machine and has no other field). */
  kind: "ssh";
  /** Host name or address. @fieldKind address */
  host: string;
  /** SSH port. @default 22 */
  port?: number;
  /** User to log in as. @default "root" @fieldKind name */
  user?: string;
  /** PEM/OpenSSH private key (keep it in a `pulumi.secret`). @default unset: no key (authenticate through `agent`) @fieldKind free opaque */
  privateKey?: string;
  /** Passphrase of `privateKey`. @default unset: the key is not encrypted @fieldKind free secret */
  passphrase?: string;
  /** Path of an SSH agent socket (e.g. `process.env.SSH_AUTH_SOCK`). @default unset: no agent @fieldKind path read */
  agent?: string;
  /**
   * The host's key fingerprint as `ssh-keygen -l` prints it (`SHA256:base64`). Required unless
   * `insecureIgnoreHostKey` is true: a host whose key does not match is refused.
   * @default unset: only valid with `insecureIgnoreHostKey`
   * @fieldKind free
   */
  hostKeySha256?: string;
  /** Accept any host key. Only for throwaway test hosts. @default false */
  insecureIgnoreHostKey?: boolean;
  /** Preferred ciphers, e.g. `["aes128-gcm@openssh.com"]`. @default ssh2's list @fieldKind free opaque */
  ciphers?: string[];
  /** How long to wait for the SSH handshake, ms. @default 20000 */
  readyTimeoutMs?: number;
}

export interface RunOptions {
  /** Bytes written to the command's standard input (then closed). Secrets go here, never in argv. @fieldKind free */
  stdin?: string | Buffer;
  /** Extra environment variables. @fieldKind free */
  env?: Record<string, string>;
  /** Kill the command after this long. @default 300000 */
  timeoutMs?: number;
  /** Throw `CommandError` on a non-zero exit. @default true */
  check?: boolean;
  /** Strings to blank out of error messages (e.g. passwords also sent on stdin). @fieldKind free */
  secrets?: string[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** A command exited non-zero (or could not start, or timed out). */
export class CommandError extends Error {
  constructor(
    public readonly argv: readonly string[],
    public readonly code: number,
    public readonly stderr: string,
    public readonly host: string,
    secrets: readonly string[] = [],
  ) {
    const tail = stderr.trim().split("\n").slice(-8).join("\n").slice(-2000);
    super(
      redact(
        `command failed on ${host} (exit ${code}): ${quoteArgv(argv)}` + (tail ? `\n${tail}` : ""),
        secrets,
      ),
    );
    this.name = "CommandError";
  }
}

export interface WriteOptions {
  /** Octal mode string, e.g. "0644". @default "0644" @fieldKind free */
  mode?: string;
  owner?: string;
  group?: string;
}

/** A machine that commands run on. */
export interface Host {
  /** `local` or `user@host:port`, for messages. @fieldKind free */
  readonly label: string;
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** File content, or `undefined` when it does not exist. */
  readFile(path: string): Promise<string | undefined>;
  /** Write via a temp file in the same directory, fsync, chmod/chown, rename. */
  writeFileAtomic(path: string, content: string | Buffer, opts?: WriteOptions): Promise<void>;
  /** Remove a file; returns whether it existed. */
  removeFile(path: string): Promise<boolean>;
  close(): Promise<void>;
}

// One constant script does the atomic write on every kind of host: values arrive as
// positional parameters ($1..), content on stdin; nothing is pasted into the script.
const ATOMIC_WRITE = [
  'set -e',
  'tmp=$(mktemp "$(dirname -- "$1")/.kvmshare.XXXXXX")',
  'trap \'rm -f -- "$tmp"\' EXIT',
  'cat > "$tmp"',
  'chmod -- "$2" "$tmp"',
  'if [ -n "$3" ]; then chown -- "$3" "$tmp"; fi',
  'sync -- "$tmp" 2>/dev/null || sync',
  'mv -f -- "$tmp" "$1"',
  'trap - EXIT',
].join("\n");

const READ_FILE = 'if [ -e "$1" ]; then printf y; cat -- "$1"; else printf n; fi';

abstract class BaseHost implements Host {
  abstract readonly label: string;
  abstract run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  abstract close(): Promise<void>;

  async readFile(path: string): Promise<string | undefined> {
    const r = await this.run(["sh", "-c", READ_FILE, "sh", path]);
    return r.stdout.startsWith("y") ? r.stdout.slice(1) : undefined;
  }

  async writeFileAtomic(path: string, content: string | Buffer, opts: WriteOptions = {}): Promise<void> {
    const owner = opts.owner ? `${opts.owner}${opts.group ? `:${opts.group}` : ""}` : opts.group ? `:${opts.group}` : "";
    await this.run(["sh", "-c", ATOMIC_WRITE, "sh", path, opts.mode ?? "0644", owner], { stdin: content });
  }

  async removeFile(path: string): Promise<boolean> {
    const r = await this.run(["sh", "-c", 'if [ -e "$1" ]; then rm -f -- "$1"; echo y; fi', "sh", path]);
    return r.stdout.trim() === "y";
  }
}

/** This machine. */
export class LocalHost extends BaseHost {
  readonly label = "local";

  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const [cmd, ...args] = argv;
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, {
        env: opts.env ? { ...process.env, ...opts.env } : process.env,
        stdio: ["pipe", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, opts.timeoutMs ?? 300_000);
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => err.push(d));
      child.stdin.on("error", () => undefined); // EPIPE when the command ignores stdin
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(new CommandError(argv, 127, String(e.message), this.label, opts.secrets));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        const result = {
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8") + (timedOut ? `\n(timed out after ${opts.timeoutMs ?? 300_000} ms)` : ""),
          code: code ?? (signal ? 128 : 1),
        };
        if (result.code !== 0 && opts.check !== false) {
          reject(new CommandError(argv, result.code, result.stderr, this.label, opts.secrets));
        } else resolve(result);
      });
      child.stdin.end(opts.stdin ?? "");
    });
  }

  async close(): Promise<void> {
    /* nothing to close */
  }
}

/** `SHA256:base64` fingerprint of a raw SSH public key blob, as `ssh-keygen -l` prints it. */
export function sshFingerprint(keyBlob: Buffer): string {
  return "SHA256:" + crypto.createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/** A host reached over SSH. Open with `SshHost.connect`. */
/** Each SshHost's spec and verified host key, kept out of the object's own (enumerable, loggable) fields: the spec may hold a key. */
const sshSpecs = new WeakMap<SshHost, { spec: SshConnectionSpec; hostKey?: Buffer }>();

export class SshHost extends BaseHost {
  readonly label: string;
  private constructor(private readonly client: Client, spec: SshConnectionSpec, hostKey?: Buffer) {
    super();
    this.label = `${spec.user ?? "root"}@${spec.host}:${spec.port ?? 22}`;
    sshSpecs.set(this, { spec, hostKey });
  }

  /** The spec this host was connected with, for a second transport to the same host (OpenSSH processes). */
  get connectionSpec(): SshConnectionSpec {
    return sshSpecs.get(this)!.spec;
  }

  /** The host's public key (SSH wire format) as checked against `hostKeySha256` (undefined with insecureIgnoreHostKey). */
  get hostKey(): Buffer | undefined {
    return sshSpecs.get(this)!.hostKey;
  }

  static connect(spec: SshConnectionSpec): Promise<SshHost> {
    if (!spec.hostKeySha256 && !spec.insecureIgnoreHostKey) {
      return Promise.reject(
        new Error(
          `connection.hostKeySha256: required for ${spec.host} (get it with 'ssh-keyscan ${spec.host} | ssh-keygen -lf -'), ` +
            "or set insecureIgnoreHostKey: true for a throwaway test host",
        ),
      );
    }
    const client = new Client();
    let pinned: Buffer | undefined;
    const cfg: ConnectConfig = {
      host: spec.host,
      port: spec.port ?? 22,
      username: spec.user ?? "root",
      privateKey: spec.privateKey,
      passphrase: spec.passphrase,
      agent: spec.agent,
      readyTimeout: spec.readyTimeoutMs ?? 20_000,
      hostVerifier: (key: Buffer) => {
        if (spec.insecureIgnoreHostKey === true) return true;
        if (sshFingerprint(key) !== spec.hostKeySha256) return false;
        pinned = Buffer.from(key);
        return true;
      },
    };
    if (spec.ciphers) cfg.algorithms = { cipher: spec.ciphers as never };
    return new Promise((resolve, reject) => {
      let settled = false;
      client.once("ready", () => {
        settled = true;
        resolve(new SshHost(client, spec, pinned));
      });
      // `on`, not `once`: ssh2 can emit a second error (peer closed before the handshake), and an
      // unhandled 'error' event would crash the process. Errors after ready surface on the channel.
      client.on("error", (e) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(new Error(`ssh ${spec.user ?? "root"}@${spec.host}:${spec.port ?? 22}: ${e.message}`));
      });
      client.connect(cfg);
    });
  }

  /** The underlying ssh2 client, for SFTP users (the transfer engine). */
  get ssh(): Client {
    return this.client;
  }

  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const envPrefix = opts.env ? ["env", ...Object.entries(opts.env).map(([k, v]) => `${k}=${v}`)] : [];
    const command = quoteArgv([...envPrefix, ...argv]);
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(new CommandError(argv, 255, err.message, this.label, opts.secrets));
        const out: Buffer[] = [];
        const errb: Buffer[] = [];
        let code = 255;
        const timer = setTimeout(() => {
          errb.push(Buffer.from(`\n(timed out after ${opts.timeoutMs ?? 300_000} ms)`));
          stream.close();
        }, opts.timeoutMs ?? 300_000);
        stream.on("data", (d: Buffer) => out.push(d));
        stream.stderr.on("data", (d: Buffer) => errb.push(d));
        stream.on("exit", (c: number | null) => {
          code = c ?? 255;
        });
        stream.on("close", () => {
          clearTimeout(timer);
          const result = {
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(errb).toString("utf8"),
            code,
          };
          if (code !== 0 && opts.check !== false) {
            reject(new CommandError(argv, code, result.stderr, this.label, opts.secrets));
          } else resolve(result);
        });
        stream.end(opts.stdin ?? "");
      });
    });
  }

  async close(): Promise<void> {
    this.client.end();
  }
}

/** Open a host for a connection spec. */
export async function connect(spec: ConnectionSpec | undefined): Promise<Host> {
  if (!spec || spec.kind === "local") return new LocalHost();
  if (spec.kind === "ssh") return SshHost.connect(spec);
  throw new Error(`connection.kind: must be 'local' or 'ssh' (got '${(spec as { kind: string }).kind}')`);
}

/** Open a host, run `fn`, always close it. */
export async function withHost<T>(spec: ConnectionSpec | undefined, fn: (host: Host) => Promise<T>): Promise<T> {
  const host = await connect(spec);
  try {
    return await fn(host);
  } finally {
    await host.close();
  }
}
