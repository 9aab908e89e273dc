/**
 * SSH destination whose data goes through OpenSSH processes, one per stream, each running a
 * small POSIX-shell loop on the host (no Node there): `W` requests write a byte range at its
 * offset with `dd conv=notrunc`, `H` requests hash a range with `dd | sha256sum` in the
 * background (so the stream goes on sending while the host hashes what it wrote). Everything
 * else (stat, the part file's creation and size, manifest, fsync, rename, mtime, free space) goes
 * through one ssh2 SFTP session, as in `sftp.ts`.
 *
 * Protocol on the process's stdin: a line `W TAG OFFSET LENGTH PATH` followed by LENGTH raw bytes,
 * or a line `H TAG OFFSET LENGTH PATH`. Replies on stdout, one line each: `TAG ok`, `TAG <hex>`,
 * or `TAG ERR <message>` (after which the loop exits: a failed write leaves unread bytes).
 * Requests on one process are answered in order for `W`; `H` answers come when ready.
 */
import { ChildProcess, spawn } from "child_process";
import { SshConnectionSpec } from "../core/connection";
import { Destination, DestStat, PartFile } from "./destination";
import { classify, TransferError } from "./errors";
import { OpenSshClient, OpenSshOptions, opensshUnsupported } from "./openssh";
import { SftpDestination } from "./sftp";

const LOOP = [
  "command -v dd >/dev/null 2>&1 && command -v sha256sum >/dev/null 2>&1 || { echo '0 ERR dd and sha256sum are needed on the host'; exit 1; }",
  "echo R",
  "while read -r op tag off len p; do",
  ' case "$op" in',
  ' W) if e=$(dd of="$p" bs=4M iflag=fullblock,count_bytes count="$len" oflag=seek_bytes seek="$off" conv=notrunc status=none 2>&1); then echo "$tag ok";',
  '    else printf "%s ERR %s\\n" "$tag" "$(printf %s "$e" | tr "\\n" " ")"; exit 1; fi ;;',
  ' H) ( r=$(dd if="$p" bs=4M iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none | sha256sum) && echo "$tag ${r%% *}" || echo "$tag ERR cannot hash $p" ) & ;;',
  ' *) echo "$tag ERR bad request"; exit 1 ;;',
  " esac",
  "done",
  "wait",
].join("\n");

/** A path the line protocol can carry (`read` splits on whitespace and ends at a newline). */
function lineSafe(p: string): boolean {
  return !/[\n\r]/.test(p) && p.trim() === p && p.length > 0;
}

interface Waiter {
  resolve: (line: string) => void;
  reject: (e: Error) => void;
}

/** One OpenSSH process running the loop above. */
class Pipe {
  private readonly child: ChildProcess;
  private readonly waiters = new Map<number, Waiter>();
  private tag = 1;
  private buffered = "";
  private stderr = "";
  private dead: Error | undefined;
  readonly ready: Promise<void>;
  /** The range being sent: data goes straight to stdin until `next === end`. */
  private cur: { path: string; next: number; end: number; ack: Promise<string> } | undefined;
  private held: string[] = [];
  /** "ok"s still to come for ranges completely sent. */
  private readonly acks = new Set<Promise<string>>();

  constructor(argv: string[], private readonly label: string) {
    // Its own process group: a Ctrl-C at the terminal reaches kvmshare, which stops cleanly (and
    // keeps the partial copy for --resume); the ssh processes are closed by it, not killed under it.
    this.child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], detached: true });
    this.child.stdin!.on("error", () => undefined); // EPIPE: the exit tells why
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString("utf8")).slice(-2000)));
    this.ready = new Promise<void>((resolve, reject) => this.waiters.set(-1, { resolve: () => resolve(), reject }));
    this.child.stdout!.on("data", (d: Buffer) => this.onData(d));
    this.child.on("error", (e) => this.fail(new TransferError("CONNECTION", `${label}: cannot run ssh: ${e.message}`, e)));
    this.child.on("close", (code) => this.fail(new TransferError("CONNECTION", `${label}: ssh exited (${code})${this.stderr.trim() ? ": " + this.stderr.trim() : ""}`)));
  }

  private onData(d: Buffer): void {
    this.buffered += d.toString("utf8");
    let nl: number;
    while ((nl = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line === "R") {
        this.waiters.get(-1)?.resolve(line);
        this.waiters.delete(-1);
        continue;
      }
      const sp = line.indexOf(" ");
      const tag = Number(line.slice(0, sp));
      const rest = line.slice(sp + 1);
      if (rest.startsWith("ERR ")) {
        const e = Object.assign(new Error(rest.slice(4)), { remote: true });
        if (tag === 0) this.fail(new TransferError("IO", `${this.label}: ${rest.slice(4)} (or copy with --transport sftp)`));
        else this.fail(e, tag);
        continue;
      }
      const w = this.waiters.get(tag);
      this.waiters.delete(tag);
      w?.resolve(rest);
    }
  }

  /** Reject waiters: all of them (the process died), the failing one first with its own error. */
  private fail(e: Error, tag?: number): void {
    if (tag !== undefined) {
      const w = this.waiters.get(tag);
      this.waiters.delete(tag);
      w?.reject(e);
    }
    this.dead ??= e;
    for (const w of this.waiters.values()) w.reject(this.dead);
    this.waiters.clear();
  }

  private request(line: string): { tag: number; reply: Promise<string> } {
    if (this.dead) return { tag: 0, reply: Promise.reject(this.dead) };
    const tag = this.tag++;
    const reply = new Promise<string>((resolve, reject) => this.waiters.set(tag, { resolve, reject }));
    reply.catch(() => undefined);
    return { tag, reply };
  }

  private send(buf: Buffer | string): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => this.child.stdin!.write(buf, (e) => (e ? reject(this.dead ?? e) : resolve())));
  }

  /** Announce a range; the following `write`s at its offsets carry its bytes. */
  begin(p: string, offset: number, length: number): void {
    if (this.cur) throw new TransferError("IO", `${this.label}: internal: a range began before the previous one was complete`);
    const { tag, reply } = this.request("");
    this.cur = { path: p, next: offset, end: offset + length, ack: reply };
    this.send(`W ${tag} ${offset} ${length} ${p}\n`).catch(() => undefined);
  }

  async write(p: string, buf: Buffer, length: number, position: number): Promise<void> {
    // A write outside an announced range is a range of its own (small files, tests).
    if (!this.cur || this.cur.path !== p || this.cur.next !== position || position + length > this.cur.end) {
      if (this.cur) throw new TransferError("IO", `${this.label}: internal: write at ${position} while a range expects ${this.cur.next}`);
      this.begin(p, position, length);
    }
    const cur = this.cur!;
    cur.next += length;
    const last = cur.next === cur.end;
    if (last) {
      // Not waiting for the host's "ok" here keeps data flowing into the next range (measured:
      // waiting stalled every stream at each chunk end); a failed write rejects the hash that
      // follows it on this process, and `flush()` (before fsync) waits for every "ok".
      this.cur = undefined;
      this.acks.add(cur.ack);
      cur.ack.then(
        () => this.acks.delete(cur.ack),
        () => undefined,
      );
      const held = this.held.splice(0);
      const sent = this.send(buf.subarray(0, length));
      for (const h of held) this.send(h).catch(() => undefined);
      await sent;
    } else {
      await this.send(buf.subarray(0, length));
    }
  }

  /** Wait until the host confirmed every write sent so far; throws the first failure. */
  async flush(): Promise<void> {
    if (this.dead) throw this.dead;
    await Promise.all([...this.acks]);
  }

  /** SHA-256 of a range as the host's file has it (after every earlier write on this process). */
  hash(p: string, offset: number, length: number): Promise<string> {
    const { tag, reply } = this.request("");
    const line = `H ${tag} ${offset} ${length} ${p}\n`;
    if (this.cur) this.held.push(line);
    else this.send(line).catch(() => undefined);
    return reply.then((hex) => {
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new TransferError("IO", `remote sha256sum on ${this.label} printed '${hex}'`);
      return hex;
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once("close", () => resolve());
      this.child.stdin!.end();
      setTimeout(() => this.child.kill("SIGTERM"), 5000).unref();
    });
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
  streams: number;
}

export class OpenSshDestination implements Destination {
  readonly kind = "ssh" as const;
  readonly label: string;
  readonly streams: number;

  private constructor(
    private readonly meta: SftpDestination,
    private readonly client: OpenSshClient,
    private readonly pipes: Pipe[],
  ) {
    this.label = meta.label;
    this.streams = pipes.length;
  }

  /** Opens the SFTP control session first (host key, auth and errors as with ssh2), then one ssh process per stream. */
  static async open(spec: SshConnectionSpec, o: OpenSshDestinationOptions): Promise<OpenSshDestination> {
    const meta = await SftpDestination.open(spec, { streams: 1 });
    const why = opensshUnsupported(spec);
    if (why) {
      await meta.close();
      throw new OpenSshUnavailable(why);
    }
    let client: OpenSshClient | undefined;
    const pipes: Pipe[] = [];
    try {
      client = await OpenSshClient.prepare(spec, o);
      for (let i = 0; i < Math.max(1, o.streams); i++) pipes.push(new Pipe(client.argv(["sh", "-c", LOOP]), meta.label));
      await Promise.all(pipes.map((p) => p.ready));
      return new OpenSshDestination(meta, client, pipes);
    } catch (e) {
      for (const p of pipes) p.kill();
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
    const part = await this.meta.openPart(p, size, fresh); // creates/truncates, sets the size; fsync
    if (!lineSafe(p)) return part; // a name the line protocol cannot carry: SFTP writes
    const pipes = this.pipes;
    const explain = async (e: unknown): Promise<never> => {
      if (e instanceof TransferError && e.code !== "IO") throw e;
      const err = classify(e, "destination", p);
      if (err.code === "IO" && /No space left/i.test(String((e as Error).message))) throw classify({ code: "ENOSPC" }, "destination", p);
      throw err;
    };
    return {
      beginRange: (position, length, stream) => pipes[stream % pipes.length].begin(p, position, length),
      write: (buf, length, position, stream) => pipes[stream % pipes.length].write(p, buf, length, position).catch(explain),
      read: (buf, length, position, stream) => part.read(buf, length, position, stream),
      sync: async () => {
        await Promise.all(pipes.map((x) => x.flush())).catch(explain);
        await part.sync();
      },
      close: () => part.close(),
    };
  }

  hashRange(p: string, offset: number, length: number, stream: number): Promise<string> {
    if (!lineSafe(p)) return this.meta.hashRange(p, offset, length, stream);
    return this.pipes[stream % this.pipes.length].hash(p, offset, length);
  }

  async close(): Promise<void> {
    await Promise.all(this.pipes.map((p) => p.close()));
    this.client.close();
    await this.meta.close();
  }
}
