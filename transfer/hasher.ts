/**
 * Chunk hashes: SHA-256 (cryptographic) or xxh128 (XXH3, 128 bits, non-cryptographic; rsync's
 * default since 3.2), see docs/transfer.md for what each guarantees.
 *
 * Measured here (1 GiB in memory, CPU s): Node's SHA-256 0.81 (SHA-NI), `openssl dgst -sha256`
 * 1.0, coreutils sha256sum 3.9, `xxh128sum` 0.21 (most of it reading the pipe). Node has no
 * XXH3, so an xxh128 chunk is hashed by an `xxh128sum` child fed the blocks over a pipe.
 *
 * SHA-256 off the event loop. Hashing a 2 GiB file takes ~1.3 s of one core here; done on
 * the main thread it stalls the I/O the streams are waiting for (measured: 400-950 MiB/s,
 * erratic, vs ~1,080 without hashing). So a few worker threads hash, reading the blocks
 * straight out of SharedArrayBuffer-backed buffers (no copy), while the main thread keeps
 * issuing reads and writes.
 *
 * Use: `const h = pool.begin(); await h.update(buf); ... const hex = await h.digest();`
 * `buf` must come from `pool.allocate()` (shared memory) and must not be reused before the
 * promise of its `update` resolved. Updates of one handle are applied in order.
 */
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import { Worker } from "worker_threads";
import { which } from "../core/openssh";

export type HashAlgorithm = "sha256" | "xxh128";
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ["sha256", "xxh128"];

/** Is `hex` a digest of `algorithm` (lowercase hex of the right length)? */
export function isDigest(algorithm: HashAlgorithm, hex: string): boolean {
  return (algorithm === "xxh128" ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{64}$/).test(hex);
}

/** Can this machine hash with `algorithm` (xxh128 needs `xxh128sum`, from Debian's xxhash package)? */
export function hashAvailableHere(algorithm: HashAlgorithm): boolean {
  return algorithm === "sha256" || which("xxh128sum");
}

/**
 * POSIX shell for a host: defines `h ALGORITHM FILE OFFSET LENGTH` (prints the range's hex
 * digest; a missing file hashes as empty) and sets `$A` to the algorithms the host has.
 * SHA-256 through openssl where present (SHA-NI; coreutils sha256sum has none).
 */
export const REMOTE_HASH_FN = [
  'S=sha256sum; command -v openssl >/dev/null 2>&1 && S="openssl dgst -sha256 -r"',
  "X=false; command -v xxh128sum >/dev/null 2>&1 && X=xxh128sum",
  'A=sha256; [ "$X" = false ] || A="sha256 xxh128"',
  'h() { case $1 in xxh128) C=$X;; *) C=$S;; esac; r=$(dd if="$2" bs=4M iflag=skip_bytes,count_bytes skip="$3" count="$4" status=none | $C) && echo "${r%% *}"; }',
].join("\n");

/**
 * One chunk's xxh128 by an `xxh128sum` child reading the blocks from its stdin. `live` holds the
 * children not finished yet: a range that fails before its digest (a damaged block, a killed
 * destination) would leave its child waiting on stdin, keeping the process alive.
 */
function xxh128Handle(live: Set<ChildProcess>): HashHandle {
  const child = spawn("xxh128sum", [], { stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);
  child.on("close", () => live.delete(child));
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
  child.stderr.on("data", (d: Buffer) => (err = (err + d.toString("utf8")).slice(-500)));
  const done = new Promise<string>((resolve, reject) => {
    child.on("error", (e) => reject(new Error(`cannot run xxh128sum (install the xxhash package, or use --hash sha256): ${e.message}`)));
    child.on("close", (code) => {
      const hex = out.trim().split(/\s+/)[0] ?? "";
      if (code === 0 && isDigest("xxh128", hex)) resolve(hex);
      else reject(new Error(`xxh128sum exited ${code}: ${err.trim() || out.trim()}`));
    });
  });
  done.catch(() => undefined);
  child.stdin.on("error", () => undefined); // the exit says why
  return {
    update: (buf) =>
      Promise.race([done.then(() => undefined), new Promise<void>((resolve, reject) => child.stdin.write(buf, (e) => (e ? reject(e) : resolve())))]),
    digest: () => {
      child.stdin.end();
      return done;
    },
    abort: () => {
      child.stdin.destroy();
      child.kill();
    },
  };
}

const WORKER_SOURCE = `
const { parentPort } = require("worker_threads");
const crypto = require("crypto");
const hashes = new Map();
parentPort.on("message", (m) => {
  try {
    if (m.op === "update") {
      let h = hashes.get(m.id);
      if (!h) { h = crypto.createHash("sha256"); hashes.set(m.id, h); }
      h.update(new Uint8Array(m.sab, m.offset, m.length));
      parentPort.postMessage({ seq: m.seq });
    } else if (m.op === "digest") {
      const h = hashes.get(m.id) || crypto.createHash("sha256");
      hashes.delete(m.id);
      parentPort.postMessage({ seq: m.seq, hex: h.digest("hex") });
    }
  } catch (e) {
    parentPort.postMessage({ seq: m.seq, error: String(e && e.message || e) });
  }
});
`;

export interface HashHandle {
  update(buf: Buffer): Promise<void>;
  digest(): Promise<string>;
  /** Drop the hash without a digest (its range failed): frees what it holds (an xxh128sum child). */
  abort(): void;
}

interface Pending {
  resolve: (v: { hex?: string }) => void;
  reject: (e: Error) => void;
}

export class HashPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private nextId = 0;
  private closed = false;
  /** xxh128sum children whose hash is not finished (killed by `close`). */
  private readonly children = new Set<ChildProcess>();

  /** `threads` = 0 hashes on the calling thread (for tiny copies and tests); xxh128 needs none. */
  constructor(threads: number, readonly algorithm: HashAlgorithm = "sha256") {
    if (algorithm === "xxh128") threads = 0;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.unref();
      w.on("message", (m: { seq: number; hex?: string; error?: string }) => {
        const p = this.pending.get(m.seq);
        if (!p) return;
        this.pending.delete(m.seq);
        if (m.error) p.reject(new Error(`hash worker: ${m.error}`));
        else p.resolve(m);
      });
      w.on("error", (e) => this.failAll(e));
      this.workers.push(w);
    }
  }

  /** A buffer the workers can read without a copy. */
  allocate(size: number): Buffer {
    return Buffer.from(new SharedArrayBuffer(size));
  }

  /** A new hash (of the pool's algorithm unless told otherwise). */
  begin(algorithm: HashAlgorithm = this.algorithm): HashHandle {
    if (algorithm === "xxh128") return xxh128Handle(this.children);
    if (this.workers.length === 0) {
      const h = crypto.createHash("sha256");
      return {
        update: async (buf) => void h.update(buf),
        digest: async () => h.digest("hex"),
        abort: () => undefined,
      };
    }
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length];
    return {
      update: (buf) => {
        if (!(buf.buffer instanceof SharedArrayBuffer)) {
          return Promise.reject(new TypeError("HashPool: update() needs a buffer from allocate()"));
        }
        return this.send(worker, { op: "update", id, sab: buf.buffer, offset: buf.byteOffset, length: buf.length }).then(() => undefined);
      },
      digest: () => this.send(worker, { op: "digest", id }).then((r) => r.hex as string),
      // The worker's entry goes with the next digest of this id, which never comes: drop it.
      abort: () => void this.send(worker, { op: "digest", id }).catch(() => undefined),
    };
  }

  private send(worker: Worker, msg: Record<string, unknown>): Promise<{ hex?: string }> {
    if (this.closed) return Promise.reject(new Error("HashPool is closed"));
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      worker.postMessage({ ...msg, seq });
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.children) c.kill();
    this.children.clear();
    this.failAll(new Error("HashPool closed"));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** SHA-256 of a buffer on this thread (tests, small files). */
export function sha256(buf: Buffer): string {
  return crypto.createHash("sha256").update(buf).digest("hex");
}
