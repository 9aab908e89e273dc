/**
 * Pure planning: how a file is cut into chunks, how big chunks are by default, how many
 * streams to run, and how a directory's files are grouped into jobs for the streams.
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Smallest and largest chunk a user may ask for. */
export const MIN_CHUNK = 4 * KiB;
export const MAX_CHUNK = 4 * GiB;
/** `MIN_CHUNK` to `MAX_CHUNK` as messages write them. */
export const CHUNK_RANGE = "4K to 4G";

/** Fewest and most parallel streams (and SSH connections) a user may ask for. */
export const MIN_STREAMS = 1;
export const MAX_STREAMS = 64;

/** The unit of I/O inside a chunk (one read, one write, one hash update). */
export const BLOCK_SIZE = 4 * MiB;

export interface Chunk {
  index: number;
  offset: number;
  length: number;
}

/**
 * Default chunk size for a file: about 32 chunks per file (enough to spread over the streams
 * and to make a resume cheap), a power of two between 8 MiB and 256 MiB.
 * 2 GiB -> 64 MiB; 10 GiB -> 256 MiB; 100 MiB -> 8 MiB.
 */
export function defaultChunkSize(fileSize: number): number {
  const target = Math.max(1, Math.ceil(fileSize / 32));
  let c = 8 * MiB;
  while (c < target && c < 256 * MiB) c *= 2;
  return c;
}

/** The chunks of a file of `size` bytes. A 0-byte file has no chunks. */
export function planChunks(size: number, chunkSize: number): Chunk[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`planChunks: size must be a non-negative integer (got ${size})`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError(`planChunks: chunkSize must be a positive integer (got ${chunkSize})`);
  const chunks: Chunk[] = [];
  for (let offset = 0, index = 0; offset < size; offset += chunkSize, index++) {
    chunks.push({ index, offset, length: Math.min(chunkSize, size - offset) });
  }
  return chunks;
}

export type DestinationKind = "local" | "ssh";

/**
 * Default number of parallel streams, from the machine and the destination:
 * - local/mounted path: the work is mostly waiting on the disk or the share, so keep a few
 *   requests in flight per core: 2 x cores, between 2 and 8.
 * - SSH: each stream costs a cipher on both ends and ssh2 encrypts on the event loop, so
 *   more streams than cores only add contention: cores, between 1 and 8.
 * Never more streams than there are chunks/jobs to run.
 */
export function defaultStreams(opts: { cores: number; destination: DestinationKind; jobs?: number }): number {
  const cores = Math.max(1, Math.floor(opts.cores));
  const n = opts.destination === "local" ? Math.min(8, Math.max(2, 2 * cores)) : Math.min(8, Math.max(1, cores));
  return Math.max(1, Math.min(n, opts.jobs ?? n));
}

/** What a short probe of an SSH host found (one command over the control connection). */
export interface SshProbe {
  /** Cores here and on the host. */
  localCores: number;
  remoteCores: number;
  /** The host is this machine's kernel (same boot id: a namespace, a container): both ends share the same cores. */
  sameKernel: boolean;
  /** Round trip of the probe command, ms (an upper bound of the network RTT). */
  rttMs: number;
  /** AES-NI here and on the host. */
  localAes: boolean;
  remoteAes: boolean;
}

/** Bytes one OpenSSH channel keeps in flight (its default window): a stream's rate is at most this per round trip. */
export const SSH_WINDOW = 2 * MiB;

/**
 * Streams for an SSH copy, from the probe. A stream costs about a core on each end (cipher,
 * SFTP server, hashing), so more streams than the scarcer end has cores only add contention;
 * when both ends are one kernel they share the cores, and one stream per two cores is what
 * fits (measured here, 2 cores: 1 stream ahead of 2, 4 and 8). A long round trip caps a stream
 * at `SSH_WINDOW` per RTT, so enough streams are added to keep ~1 GiB/s in flight. 1 to 8.
 */
export function sshStreams(p: SshProbe, jobs?: number): number {
  const cpu = p.sameKernel ? Math.floor(p.localCores / 2) : Math.min(p.localCores, p.remoteCores);
  const rtt = Math.ceil((1024 * MiB * (p.rttMs / 1000)) / SSH_WINDOW);
  const n = Math.min(8, Math.max(1, cpu, rtt));
  return Math.max(1, Math.min(n, jobs ?? n));
}

/** Cipher preference for the probe: AES-GCM first when both ends have AES-NI, else ChaCha20-Poly1305 (faster in software). */
export function sshCiphers(p: Pick<SshProbe, "localAes" | "remoteAes">): string[] {
  const aes = ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"];
  const chacha = ["chacha20-poly1305@openssh.com"];
  return p.localAes && p.remoteAes ? [...aes, ...chacha, "aes128-ctr"] : [...chacha, ...aes, "aes128-ctr"];
}

/** A file of a directory tree, relative to the tree's root. */
export interface TreeFile {
  rel: string;
  size: number;
}

/**
 * One unit of work for the streams: a large file (the engine expands it into its chunks once
 * the file is opened, since a resumed file keeps its manifest's chunk size), or a batch of
 * whole small files. `chunks` is the expected chunk count, for choosing the stream count.
 */
export type Job = { kind: "file"; file: number; chunks: number } | { kind: "batch"; files: number[]; bytes: number };

/** How many units of parallel work a plan holds (chunks + batches). */
export function parallelWork(jobs: readonly Job[]): number {
  return jobs.reduce((n, j) => n + (j.kind === "file" ? j.chunks : 1), 0);
}

/**
 * Spread a tree's files over jobs. Non-empty files larger than `smallFileMax` are chunked;
 * the rest are batched (up to `batchBytes` bytes or `batchFiles` files per batch) so that a
 * thousand tiny files do not become a thousand scheduling round-trips. Large files come
 * first (their chunks keep every stream busy), batches fill in after.
 */
export function planTree(
  files: readonly TreeFile[],
  opts: { chunkSize?: number; smallFileMax?: number; batchBytes?: number; batchFiles?: number } = {},
): Job[] {
  const smallMax = opts.smallFileMax ?? 8 * MiB;
  const batchBytes = opts.batchBytes ?? 32 * MiB;
  const batchFiles = opts.batchFiles ?? 256;
  const jobs: Job[] = [];
  const small: number[] = [];
  files.forEach((f, i) => {
    if (f.size > 0 && f.size > smallMax) {
      jobs.push({ kind: "file", file: i, chunks: Math.ceil(f.size / (opts.chunkSize ?? defaultChunkSize(f.size))) });
    } else small.push(i);
  });
  let batch: number[] = [];
  let bytes = 0;
  for (const i of small) {
    if (batch.length && (bytes + files[i].size > batchBytes || batch.length >= batchFiles)) {
      jobs.push({ kind: "batch", files: batch, bytes });
      batch = [];
      bytes = 0;
    }
    batch.push(i);
    bytes += files[i].size;
  }
  if (batch.length) jobs.push({ kind: "batch", files: batch, bytes });
  return jobs;
}
