/**
 * SSH destination whose data goes through OpenSSH processes: one `ssh -s sftp` per stream (the
 * host's own SFTP server writes at offsets with pwrite, as for scp; this process speaks the
 * SFTP v3 write protocol over the ssh process's stdin/stdout), and one more ssh process running a
 * small POSIX-shell loop that hashes byte ranges on the host (`dd | xxh128sum` or SHA-256, in the background,
 * so streams go on sending while the host hashes). Everything else (stat, creating and sizing the
 * part file, manifest, fsync, rename, mtime, free space) goes through one ssh2 SFTP session, as
 * in `sftp.ts`. The host needs no Node.
 *
 * Measured (test/bench/transfer.ts): a first version wrote with `dd conv=notrunc` per chunk behind a
 * shell loop; the host then spent ~4x the CPU of its SFTP server per GiB (sshd -> pipe -> dd ->
 * file, plus a process per chunk), which on a 2-core machine is taken from the sender.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import { performance } from "perf_hooks";
import { SshConnectionSpec } from "../core/connection";
import { Destination, DestStat, PartFile } from "./destination";
import { classify, TransferError } from "./errors";
import { HashAlgorithm, isDigest, REMOTE_HASH_FN } from "./hasher";
import { OpenSshClient, OpenSshOptions, opensshUnsupported } from "../core/openssh";
import { SftpDestination } from "./sftp";
import { SshProbe, sshCiphers, sshStreams } from "./plan";

/**
 * Prints `R <algorithms>`, then answers `H TAG ALGORITHM OFFSET LENGTH PATH` lines with
 * `TAG <hex>` (or `TAG ERR ...`) as each is ready: the hashes run in the background, so the
 * streams go on sending while the host hashes.
 */
const HASH_LOOP = [
  "command -v dd >/dev/null 2>&1 || { echo '0 ERR dd is needed on the host'; exit 1; }",
  REMOTE_HASH_FN,
  'echo "R $A"',
  "while read -r op tag a off len p; do",
  ' [ "$op" = H ] || { echo "$tag ERR bad request"; exit 1; }',
  ' ( r=$(h "$a" "$p" "$off" "$len") && [ -n "$r" ] && echo "$tag $r" || echo "$tag ERR cannot hash $p with $a" ) &',
  "done",
  "wait",
].join("\n");

/** A path the hash loop's line protocol can carry (`read` splits on whitespace, ends at a newline). */
function lineSafe(p: string): boolean {
  return !/[\n\r]/.test(p) && p.trim() === p && p.length > 0;
}

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

/** An ssh child process, in its own process group (a Ctrl-C reaches kvmshare, which closes it). */
function spawnSsh(argv: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], detached: true });
  let err = "";
  child.stdin!.on("error", () => undefined); // EPIPE: the exit tells why
  child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString("utf8")).slice(-2000)));
  return { child, stderr: () => err.trim() };
}

function closeChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("close", () => resolve());
    child.stdin!.end();
    setTimeout(() => child.kill("SIGTERM"), 5000).unref();
  });
}

// SFTP v3 (draft-ietf-secsh-filexfer-02) packet types and flags used here.
const FXP_INIT = 1;
const FXP_VERSION = 2;
const FXP_OPEN = 3;
const FXP_CLOSE = 4;
const FXP_WRITE = 6;
const FXP_STATUS = 101;
const FXP_HANDLE = 102;
const FXF_WRITE = 0x02;
/** OpenSSH's sftp-server takes packets up to 256 KiB; keep each write's data under it. */
const PIECE = 255 * 1024;

/** One `ssh -s sftp` process: open for writing, positional writes (many in flight), close. */
class SftpWriter {
  private readonly child: ChildProcess;
  private readonly stderr: () => string;
  private readonly waiting = new Map<number, Waiter<Buffer>>();
  private nextId = 1;
  private inbuf: Buffer = Buffer.alloc(0);
  private dead: Error | undefined;
  private readonly handles = new Map<string, Promise<Buffer>>();
  readonly ready: Promise<void>;

  constructor(argv: string[], private readonly label: string) {
    ({ child: this.child, stderr: this.stderr } = spawnSsh(argv));
    this.child.stdout!.on("data", (d: Buffer) => this.onData(d));
    this.child.on("error", (e) => this.fail(new TransferError("CONNECTION", `${label}: cannot run ssh: ${e.message}`, e)));
    this.child.on("close", (code) => this.fail(new TransferError("CONNECTION", `${label}: ssh -s sftp exited (${code})${this.stderr() ? ": " + this.stderr() : ""}`)));
    this.ready = new Promise<Buffer>((resolve, reject) => this.waiting.set(0, { resolve, reject })).then(() => undefined);
    this.ready.catch(() => undefined);
    const init = Buffer.alloc(9);
    init.writeUInt32BE(5, 0);
    init[4] = FXP_INIT;
    init.writeUInt32BE(3, 5);
    this.child.stdin!.write(init);
  }

  private onData(d: Buffer): void {
    this.inbuf = this.inbuf.length ? Buffer.concat([this.inbuf, d]) : d;
    while (this.inbuf.length >= 4) {
      const len = this.inbuf.readUInt32BE(0);
      if (this.inbuf.length < 4 + len) break;
      const pkt = this.inbuf.subarray(4, 4 + len);
      this.inbuf = this.inbuf.subarray(4 + len);
      const type = pkt[0];
      const id = type === FXP_VERSION ? 0 : pkt.readUInt32BE(1);
      const w = this.waiting.get(id);
      this.waiting.delete(id);
      if (!w) continue;
      if (type === FXP_STATUS) {
        const code = pkt.readUInt32BE(5);
        if (code === 0) w.resolve(pkt);
        else {
          const mlen = pkt.readUInt32BE(9);
          w.reject(Object.assign(new Error(pkt.subarray(13, 13 + mlen).toString("utf8") || `SFTP status ${code}`), { code }));
        }
      } else w.resolve(pkt);
    }
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const w of this.waiting.values()) w.reject(this.dead);
    this.waiting.clear();
  }

  /** Send a request (header + optional data written without a copy); resolves with the reply packet. */
  private request(type: number, body: Buffer[], data?: Buffer): Promise<Buffer> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const bodyLen = body.reduce((n, b) => n + b.length, 0) + (data ? 4 + data.length : 0);
    const head = Buffer.allocUnsafe(9);
    head.writeUInt32BE(5 + bodyLen, 0);
    head[4] = type;
    head.writeUInt32BE(id, 5);
    const reply = new Promise<Buffer>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    const stdin = this.child.stdin!;
    stdin.cork();
    stdin.write(head);
    for (const b of body) stdin.write(b);
    if (data) {
      const n = Buffer.allocUnsafe(4);
      n.writeUInt32BE(data.length, 0);
      stdin.write(n);
      stdin.write(data);
    }
    stdin.uncork();
    return reply;
  }

  private static str(s: string | Buffer): Buffer {
    const b = typeof s === "string" ? Buffer.from(s, "utf8") : s;
    const out = Buffer.allocUnsafe(4 + b.length);
    out.writeUInt32BE(b.length, 0);
    b.copy(out, 4);
    return out;
  }

  private handle(p: string): Promise<Buffer> {
    let h = this.handles.get(p);
    if (!h) {
      const flags = Buffer.alloc(8); // pflags = WRITE (the file exists: no CREAT/TRUNC), attrs flags = 0
      flags.writeUInt32BE(FXF_WRITE, 0);
      h = this.ready.then(() => this.request(FXP_OPEN, [SftpWriter.str(p), flags])).then((pkt) => {
        if (pkt[0] !== FXP_HANDLE) throw new Error(`${this.label}: unexpected SFTP reply ${pkt[0]} to open`);
        return pkt.subarray(9, 9 + pkt.readUInt32BE(5));
      });
      h.catch(() => this.handles.delete(p));
      this.handles.set(p, h);
    }
    return h;
  }

  /** Write `length` bytes of `buf` at `position`: all pieces in flight at once, resolved when the host acknowledged each. */
  async write(p: string, buf: Buffer, length: number, position: number): Promise<void> {
    const h = SftpWriter.str(await this.handle(p));
    const writes: Promise<Buffer>[] = [];
    for (let off = 0; off < length; off += PIECE) {
      const n = Math.min(PIECE, length - off);
      const pos = Buffer.allocUnsafe(8);
      pos.writeBigUInt64BE(BigInt(position + off), 0);
      writes.push(this.request(FXP_WRITE, [h, pos], buf.subarray(off, off + n)));
    }
    await Promise.all(writes);
  }

  async closeFile(p: string): Promise<void> {
    const h = this.handles.get(p);
    if (!h) return;
    this.handles.delete(p);
    const handle = await h.catch(() => undefined);
    if (handle && !this.dead) await this.request(FXP_CLOSE, [SftpWriter.str(handle)]).catch(() => undefined);
  }

  close(): Promise<void> {
    return closeChild(this.child);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
  }
}

/** One ssh process running HASH_LOOP. */
class RemoteHashLoop {
  private readonly child: ChildProcess;
  private readonly stderr: () => string;
  private readonly waiters = new Map<number, Waiter<string>>();
  private readonly algorithmOf = new Map<number, HashAlgorithm>();
  private tag = 1;
  private buffered = "";
  private dead: Error | undefined;
  /** Resolves with the algorithms the host can hash with. */
  readonly ready: Promise<HashAlgorithm[]>;

  constructor(argv: string[], private readonly label: string) {
    ({ child: this.child, stderr: this.stderr } = spawnSsh(argv));
    this.ready = new Promise<string>((resolve, reject) => this.waiters.set(-1, { resolve, reject })).then((a) => a.split(/\s+/).filter(Boolean) as HashAlgorithm[]);
    this.ready.catch(() => undefined);
    this.child.stdout!.on("data", (d: Buffer) => this.onData(d));
    this.child.on("error", (e) => this.fail(new TransferError("CONNECTION", `${label}: cannot run ssh: ${e.message}`, e)));
    this.child.on("close", (code) => this.fail(new TransferError("CONNECTION", `${label}: the remote hasher exited (${code})${this.stderr() ? ": " + this.stderr() : ""}`)));
  }

  private onData(d: Buffer): void {
    this.buffered += d.toString("utf8");
    let nl: number;
    while ((nl = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const sp = line.indexOf(" ");
      const tag = line === "R" || line.startsWith("R ") ? -1 : Number(line.slice(0, sp));
      const rest = sp < 0 ? "" : line.slice(sp + 1);
      if (tag === 0) {
        this.fail(new TransferError("IO", `${this.label}: ${rest.replace(/^ERR /, "")} (or copy with --transport sftp, or --no-verify)`));
        continue;
      }
      const w = this.waiters.get(tag);
      const algorithm = this.algorithmOf.get(tag) ?? "sha256";
      this.waiters.delete(tag);
      this.algorithmOf.delete(tag);
      if (!w) continue;
      if (rest.startsWith("ERR ")) w.reject(new TransferError("IO", `${this.label}: ${rest.slice(4)}`));
      else if (tag !== -1 && !isDigest(algorithm, rest)) w.reject(new TransferError("IO", `remote ${algorithm} hash on ${this.label} printed '${rest}'`));
      else w.resolve(rest);
    }
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const w of this.waiters.values()) w.reject(this.dead);
    this.waiters.clear();
  }

  hash(p: string, offset: number, length: number, algorithm: HashAlgorithm): Promise<string> {
    if (this.dead) return Promise.reject(this.dead);
    const tag = this.tag++;
    const reply = new Promise<string>((resolve, reject) => this.waiters.set(tag, { resolve, reject }));
    this.algorithmOf.set(tag, algorithm);
    this.child.stdin!.write(`H ${tag} ${algorithm} ${offset} ${length} ${p}\n`);
    return reply;
  }

  close(): Promise<void> {
    return closeChild(this.child);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
  }
}

/** The SFTP control connection works but OpenSSH processes cannot carry the data (callers fall back to SFTP). */
export class OpenSshUnavailable extends Error {
  constructor(why: string) {
    super(`OpenSSH transport unavailable: ${why}`);
    this.name = "OpenSshUnavailable";
  }
}

export interface OpenSshDestinationOptions extends OpenSshOptions {
  /** @default from the probe (`sshStreams`) */
  streams?: number;
  /** Units of parallel work in the copy (no more streams than that). */
  jobs?: number;
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

/**
 * The probe behind the defaults: cores, boot id and AES-NI of the host in one command over the
 * control connection, and the round trip as the fastest of three SFTP stats (answered inside
 * the host's SFTP server, so the network's RTT, not a process start).
 */
export async function probeSsh(meta: SftpDestination): Promise<SshProbe> {
  const r = await meta.run(["sh", "-c", "nproc 2>/dev/null || echo 1; cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo -; grep -qw aes /proc/cpuinfo 2>/dev/null && echo aes || echo -"]);
  const [cores, boot, aes] = r.stdout.trim().split("\n").map((l) => l.trim());
  let rttMs = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await meta.stat("/");
    rttMs = Math.min(rttMs, performance.now() - t0);
  }
  return {
    localCores: os.availableParallelism(),
    remoteCores: Math.max(1, Number(cores) || 1),
    sameKernel: boot !== undefined && boot.length > 8 && boot === readOr("/proc/sys/kernel/random/boot_id", "").trim(),
    rttMs: Math.round(rttMs * 100) / 100,
    localAes: /^flags\s*:.*\baes\b/m.test(readOr("/proc/cpuinfo", "")),
    remoteAes: aes === "aes",
  };
}

export class OpenSshDestination implements Destination {
  readonly kind = "ssh" as const;
  readonly label: string;
  readonly streams: number;

  private constructor(
    private readonly meta: SftpDestination,
    private readonly client: OpenSshClient,
    private readonly writers: SftpWriter[],
    private readonly hasher: RemoteHashLoop,
    private readonly algorithms: readonly HashAlgorithm[],
    /** What the probe found, when it ran (no `streams` or no ciphers given). */
    readonly probe?: SshProbe,
  ) {
    this.label = meta.label;
    this.streams = writers.length;
  }

  /**
   * Opens the ssh2 control session first (host key, authentication and their errors as with
   * SFTP), then one `ssh -s sftp` per stream and the hashing process.
   */
  static async open(spec: SshConnectionSpec, o: OpenSshDestinationOptions): Promise<OpenSshDestination> {
    const meta = await SftpDestination.open(spec, { streams: 1 });
    const why = opensshUnsupported(spec);
    if (why) {
      await meta.close();
      throw new OpenSshUnavailable(why);
    }
    let client: OpenSshClient | undefined;
    const writers: SftpWriter[] = [];
    let hasher: RemoteHashLoop | undefined;
    let probe: SshProbe | undefined;
    try {
      if (o.streams === undefined || !spec.ciphers?.length) probe = await probeSsh(meta);
      const streams = o.streams ?? sshStreams(probe!, o.jobs);
      if (!spec.ciphers?.length) spec = { ...spec, ciphers: sshCiphers(probe!) };
      client = await OpenSshClient.prepare(spec, { ...o, hostKey: meta.hostKey });
      for (let i = 0; i < Math.max(1, streams); i++) writers.push(new SftpWriter(client.subsystemArgv("sftp"), meta.label));
      hasher = new RemoteHashLoop(client.argv(["sh", "-c", HASH_LOOP]), meta.label);
      const [algorithms] = await Promise.all([hasher.ready, ...writers.map((w) => w.ready)]);
      return new OpenSshDestination(meta, client, writers, hasher, algorithms, probe);
    } catch (e) {
      for (const w of writers) w.kill();
      hasher?.kill();
      client?.close();
      await meta.close();
      throw new OpenSshUnavailable((e as Error).message);
    }
  }

  stat(p: string): Promise<DestStat | undefined> {
    return this.meta.stat(p);
  }
  readText(p: string): Promise<string | undefined> {
    return this.meta.readText(p);
  }
  writeTextAtomic(p: string, text: string): Promise<void> {
    return this.meta.writeTextAtomic(p, text);
  }
  rename(from: string, to: string): Promise<void> {
    return this.meta.rename(from, to);
  }
  remove(p: string): Promise<void> {
    return this.meta.remove(p);
  }
  mkdirp(p: string): Promise<void> {
    return this.meta.mkdirp(p);
  }
  setMtime(p: string, mtimeMs: number): Promise<void> {
    return this.meta.setMtime(p, mtimeMs);
  }
  symlink(target: string, p: string): Promise<void> {
    return this.meta.symlink(target, p);
  }
  freeBytes(dir: string): Promise<number | undefined> {
    return this.meta.freeBytes(dir);
  }

  async openPart(p: string, size: number, fresh: boolean): Promise<PartFile> {
    const part = await this.meta.openPart(p, size, fresh); // creates/truncates and sizes it; fsync
    const writers = this.writers;
    // SFTP reports ENOSPC as a bare "Failure" (code 4): ask how much room is left to tell.
    const explain = async (e: unknown): Promise<never> => {
      if (e instanceof TransferError) throw e;
      if ((e as { code?: number }).code === 4) {
        const free = await this.meta.freeBytes(p.replace(/\/[^/]*$/, "") || "/").catch(() => undefined);
        if (free !== undefined && free < 1024 * 1024) throw classify({ code: "ENOSPC", message: "no space left" }, "destination", p);
      }
      throw classify(e, "destination", p);
    };
    return {
      write: (buf, length, position, stream) => writers[stream % writers.length].write(p, buf, length, position).catch(explain),
      read: (buf, length, position, stream) => part.read(buf, length, position, stream),
      sync: () => part.sync(),
      close: async () => {
        await Promise.all(writers.map((w) => w.closeFile(p)));
        await part.close();
      },
    };
  }

  hashRange(p: string, offset: number, length: number, stream: number, algorithm: HashAlgorithm): Promise<string> {
    if (!lineSafe(p)) return this.meta.hashRange(p, offset, length, stream, algorithm);
    return this.hasher.hash(p, offset, length, algorithm);
  }

  async hashAlgorithms(): Promise<readonly HashAlgorithm[]> {
    return this.algorithms;
  }

  async close(): Promise<void> {
    await Promise.all([...this.writers.map((w) => w.close()), this.hasher.close()]);
    this.client.close();
    await this.meta.close();
  }
}
