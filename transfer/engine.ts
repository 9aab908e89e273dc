/**
 * The copy engine: `copy(source, target, options)`.
 *
 * A file is cut into chunks; N streams copy chunks with positional reads and writes into a
 * preallocated `<dest>.part`, hashing each chunk (xxh128 or SHA-256) into a manifest next to it; when
 * every chunk is in (and, with `verify`, read back equal), the part file is fsynced and
 * renamed over the final name. A directory's files are spread over the same streams: large
 * files chunked, small files batched. `resume` continues from the manifests, re-checking
 * every recorded chunk and re-copying only those that are missing or bad.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { SshConnectionSpec } from "../core/connection";
import { pathOverlap } from "../core/writePaths";
import { ChunkedFile, FileContext } from "./chunkedFile";
import { Destination } from "./destination";
import { classify, TransferError } from "./errors";
import { HASH_ALGORITHMS, HashAlgorithm, hashAvailableHere, HashPool } from "./hasher";
import { LocalDestination } from "./local";
import { partPath } from "./manifest";
import { BlockMismatch, Ring, pumpRange } from "./pipe";
import { Chunk, defaultChunkSize, defaultStreams, MAX_CHUNK, MAX_STREAMS, MIN_CHUNK, MIN_STREAMS, MiB, parallelWork, planTree, SshProbe } from "./plan";
import { ProgressEvent } from "./progress";
import { SftpDestination } from "./sftp";
import { OpenSshDestination, OpenSshUnavailable } from "./sshpipe";
import { SourceEntry, walkSource } from "./tree";

export type Target =
  | { kind: "local"; path: string }
  | {
      kind: "ssh";
      connection: SshConnectionSpec;
      /** Absolute path on the remote host. */
      path: string;
      /** ssh connections to spread the SFTP sessions over (SFTP transport). @default one per stream */
      connections?: number;
      /**
       * How the data travels: `openssh` = one OpenSSH `ssh` process per stream writing at offsets
       * on the host (`dd`), hashing there (`sha256sum`); `sftp` = ssh2 SFTP sessions in this
       * process; `auto` = openssh when the connection allows it (a key without passphrase or an
       * agent, `ssh` installed), else sftp. @default "auto"
       */
      transport?: "auto" | "openssh" | "sftp";
      /** OpenSSH transport: all streams over one TCP connection (ControlMaster), so one ssh process does all the crypto. @default false */
      multiplex?: boolean;
    }
  /** Any other `Destination` implementation (opened and closed by the caller). */
  | { kind: "custom"; destination: Destination; path: string };

export interface CopyOptions {
  /** Parallel streams. @default over OpenSSH from a probe of both ends (`sshStreams`), else from cores and destination (`defaultStreams`) */
  streams?: number;
  /** Chunk size in bytes. @default from file size (`defaultChunkSize`), or the manifest's on resume */
  chunkSize?: number;
  /** Read every chunk back from the destination and compare hashes. @default true */
  verify?: boolean;
  /**
   * Chunk hash (manifest and SSH verification): `xxh128` (fast, catches corruption) or `sha256`
   * (cryptographic). @default xxh128 where `xxh128sum` is installed here (and, verifying over SSH,
   * on the host), else sha256
   */
  hash?: HashAlgorithm;
  /** Continue from `<dest>.part` + manifest; in a directory, skip files already copied (same size and mtime). @default false */
  resume?: boolean;
  /** Progress, notices, per-file completion. */
  onEvent?: (e: ProgressEvent) => void;
  /**
   * The target path is the copy itself, never "into" an existing directory (for declarative
   * callers such as the ParallelTransfer component). @default false
   */
  exactDestination?: boolean;
  /** Stop: the partial copy is kept for `resume`, the promise rejects with INTERRUPTED. */
  signal?: AbortSignal;
}

export interface CopyResult {
  source: string;
  /** Final path at the destination. */
  destination: string;
  files: number;
  /** Bytes of the source. */
  bytes: number;
  /** Bytes sent this run (less than `bytes` after a resume). */
  copiedBytes: number;
  /** Bytes found intact in a part file and kept. */
  reusedBytes: number;
  /** Chunks recorded by an earlier run that failed their check and were copied again. */
  recopiedChunks: number;
  seconds: number;
  /** `bytes / seconds` in MiB/s. */
  mibps: number;
  streams: number;
  /** The chunk size used for large files (`undefined` if there were none). */
  chunkSize?: number;
  verify: boolean;
  hash: HashAlgorithm;
  /** What the SSH probe found when it chose the streams or the cipher (`sshStreams`, `sshCiphers`). */
  probe?: SshProbe;
  /** What carried the data: a local/mounted path, OpenSSH processes, ssh2 SFTP sessions, or the caller's destination. */
  transport: "local" | "openssh" | "sftp" | "custom";
}

export function validateCopyOptions(o: CopyOptions): string[] {
  const problems: string[] = [];
  if (o.streams !== undefined && (!Number.isInteger(o.streams) || o.streams < MIN_STREAMS || o.streams > MAX_STREAMS)) {
    problems.push(`streams: must be an integer from ${MIN_STREAMS} to ${MAX_STREAMS} (got ${o.streams})`);
  }
  if (o.chunkSize !== undefined && (!Number.isInteger(o.chunkSize) || o.chunkSize < MIN_CHUNK || o.chunkSize > MAX_CHUNK)) {
    problems.push(`chunkSize: must be between ${MIN_CHUNK} bytes (4K) and ${MAX_CHUNK} bytes (4G) (got ${o.chunkSize})`);
  }
  if (o.hash !== undefined && !HASH_ALGORITHMS.includes(o.hash)) problems.push(`hash: must be one of ${HASH_ALGORITHMS.join(", ")} (got ${JSON.stringify(o.hash)})`);
  return problems;
}

type QueueItem = { kind: "file"; file: number } | { kind: "chunk"; task: ChunkedFile; chunk: Chunk } | { kind: "batch"; files: number[] };

export async function copy(source: string, target: Target, opts: CopyOptions = {}): Promise<CopyResult> {
  const problems = validateCopyOptions(opts);
  if (problems.length) throw new TransferError("USAGE", problems.join("; "));
  const t0 = performance.now();
  const verify = opts.verify ?? true;
  const resume = opts.resume ?? false;
  const emit = (e: ProgressEvent) => opts.onEvent?.(e);

  const entries = await walkSource(source);
  const root = entries[0];
  const single = root.type === "file";
  const files = entries.filter((e) => e.type === "file");
  const smallFileMax = single ? 0 : 8 * MiB;
  const cores = os.availableParallelism();
  const estimate = planTree(files, { chunkSize: opts.chunkSize, smallFileMax });
  const destKind = target.kind === "custom" ? target.destination.kind : target.kind;
  const jobCount = parallelWork(estimate);
  const fallbackStreams = opts.streams ?? defaultStreams({ cores, destination: destKind, jobs: jobCount });

  let dest: Destination;
  if (target.kind === "local") dest = new LocalDestination(fallbackStreams);
  else if (target.kind === "ssh") dest = await openSsh(target, opts.streams, fallbackStreams, jobCount, emit);
  else dest = target.destination;
  // Over OpenSSH without --streams, the probe chose (see `sshStreams`).
  const streams = dest instanceof OpenSshDestination ? dest.streams : fallbackStreams;

  const tasks: ChunkedFile[] = [];
  let pool: HashPool | undefined;
  try {
    const hash = await chooseHash(opts.hash, dest, verify);
    // Worker threads pay off above a few blocks; tiny copies hash on this thread.
    const hashPool = (pool = new HashPool(files.reduce((n, f) => n + f.size, 0) >= 16 * MiB ? Math.min(2, cores) : 0, hash));
    const destRoot = await resolveDestRoot(dest, root, target.path, opts.exactDestination === true);
    // On this machine, a copy onto itself or into itself is refused (a merge into a parent is not: it replaces nothing).
    const overlap = target.kind === "local" ? pathOverlap(path.resolve(root.abs), path.resolve(destRoot)) : undefined;
    if (overlap && !overlap.startsWith("holds")) throw new TransferError("USAGE", `destination ${destRoot} ${overlap}; copy to a path outside the source`);
    const destOf = (e: SourceEntry) => (e.rel ? path.posix.join(destRoot, e.rel) : destRoot);

    // --resume in a directory: files already at the destination with the same size and mtime are done.
    let todo = files;
    if (resume && !single) {
      const done = new Set<SourceEntry>();
      for (const f of files) {
        const st = await dest.stat(destOf(f));
        if (st && !st.isDirectory && st.size === f.size && Math.floor(st.mtimeMs / 1000) === Math.floor(f.mtimeMs / 1000)) done.add(f);
      }
      if (done.size) emit({ type: "notice", message: `resume: ${done.size} of ${files.length} files already copied` });
      todo = files.filter((f) => !done.has(f));
    }
    const totalBytes = files.reduce((n, f) => n + f.size, 0);
    const skippedBytes = totalBytes - todo.reduce((n, f) => n + f.size, 0);
    await checkFreeSpace(dest, destRoot, todo, destOf, resume);

    for (const d of entries.filter((e) => e.type === "dir")) await dest.mkdirp(destOf(d));
    const jobs = planTree(todo, { chunkSize: opts.chunkSize, smallFileMax });
    emit({
      type: "start",
      source: root.abs,
      destination: dest.kind === "ssh" ? `${dest.label}:${destRoot}` : destRoot,
      totalBytes,
      files: files.length,
      streams,
      chunkSize: opts.chunkSize ?? (todo.length ? defaultChunkSize(Math.max(...todo.map((f) => f.size))) : 0),
    });

    let doneBytes = skippedBytes;
    let copiedBytes = 0;
    const ctx: FileContext = {
      dest,
      pool: hashPool,
      verify,
      resume,
      notice: (message) => emit({ type: "notice", message }),
      progress: (done, copied) => {
        doneBytes += done;
        copiedBytes += copied;
        emit({ type: "progress", doneBytes, totalBytes, copiedBytes });
      },
    };

    const queue: QueueItem[] = jobs.map((j) => (j.kind === "file" ? { kind: "file", file: j.file } : { kind: "batch", files: j.files }));
    let head = 0;
    let failure: unknown;
    const fail = (e: unknown) => {
      failure ??= e;
    };
    const onAbort = () => fail(new TransferError("INTERRUPTED", "interrupted; the partial copy was kept: run again with --resume to continue"));
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener("abort", onAbort);
    let usedChunkSize: number | undefined;

    const worker = async (stream: number): Promise<void> => {
      const ring = new Ring(hashPool);
      while (failure === undefined && head < queue.length) {
        const item = queue[head++];
        try {
          if (item.kind === "file") {
            const f = todo[item.file];
            const task = new ChunkedFile(ctx, {
              src: f.abs,
              dest: destOf(f),
              size: f.size,
              mtimeMs: f.mtimeMs,
              chunkSize: opts.chunkSize ?? defaultChunkSize(f.size),
              chunkSizeExplicit: opts.chunkSize !== undefined,
            });
            tasks.push(task);
            await task.prepare();
            usedChunkSize ??= task.chunks[0]?.length;
            // Its chunks go to the front of the queue: every stream works on this file next.
            queue.splice(head, 0, ...task.chunks.map((chunk): QueueItem => ({ kind: "chunk", task, chunk })));
          } else if (item.kind === "chunk") {
            // After a failure or an interruption a complete file is left as a part file
            // (its manifest says it is complete); --resume checks and finishes it.
            if ((await item.task.runChunk(item.chunk, stream, ring)) && failure === undefined) {
              if (await item.task.finish(stream, ring, () => failure !== undefined)) {
                emit({ type: "file", path: item.task.spec.dest, bytes: item.task.spec.size });
              }
            }
          } else {
            for (const i of item.files) {
              if (failure !== undefined) break;
              const f = todo[i];
              await copyWhole(ctx, f, destOf(f), stream, ring);
              emit({ type: "file", path: destOf(f), bytes: f.size });
            }
          }
        } catch (e) {
          fail(e);
        }
      }
    };
    await Promise.all(Array.from({ length: streams }, (_, i) => worker(i)));
    opts.signal?.removeEventListener("abort", onAbort);

    if (failure !== undefined) {
      const err = failure instanceof TransferError ? failure : classify(failure, "destination", destRoot);
      const discard = err.code === "NO_SPACE" || err.code === "SOURCE_CHANGED";
      await Promise.all(tasks.map((t) => (discard ? t.discard() : t.close())));
      throw err;
    }
    for (const l of entries.filter((e) => e.type === "symlink" && e.rel)) await dest.symlink(l.target as string, destOf(l));

    const seconds = (performance.now() - t0) / 1000;
    return {
      source: root.abs,
      destination: destRoot,
      files: files.length,
      bytes: totalBytes,
      copiedBytes,
      reusedBytes: tasks.reduce((n, t) => n + t.reusedBytes, 0),
      recopiedChunks: tasks.reduce((n, t) => n + t.recopiedChunks, 0),
      seconds,
      mibps: totalBytes / MiB / seconds,
      streams,
      chunkSize: usedChunkSize,
      verify,
      hash,
      transport: target.kind === "custom" ? "custom" : dest instanceof OpenSshDestination ? "openssh" : dest instanceof SftpDestination ? "sftp" : "local",
      ...(dest instanceof OpenSshDestination && dest.probe ? { probe: dest.probe } : {}),
    };
  } finally {
    await Promise.all(tasks.map((t) => t.close()));
    await pool?.close();
    if (target.kind !== "custom") await dest.close();
  }
}

/**
 * The chunk hash: the one asked for, after checking both ends can compute it, or xxh128 where
 * both can (the host only matters when it hashes the chunks: verifying over SSH), else sha256.
 */
async function chooseHash(asked: HashAlgorithm | undefined, dest: Destination, verify: boolean): Promise<HashAlgorithm> {
  const there = verify && dest.hashRange ? ((await dest.hashAlgorithms?.()) ?? ["sha256"]) : HASH_ALGORITHMS;
  const usable = (a: HashAlgorithm) => hashAvailableHere(a) && there.includes(a);
  if (asked === undefined) return usable("xxh128") ? "xxh128" : "sha256";
  if (!hashAvailableHere(asked)) throw new TransferError("USAGE", `--hash ${asked}: this machine has no xxh128sum; install the xxhash package, or use --hash sha256`);
  if (!there.includes(asked)) throw new TransferError("USAGE", `--hash ${asked}: ${dest.label} has no xxh128sum to verify with; install the xxhash package there, or use --hash sha256 (or --no-verify)`);
  return asked;
}

/** The SSH destination for `target.transport` (see there); `auto` falls back to SFTP with a notice. */
async function openSsh(target: Extract<Target, { kind: "ssh" }>, asked: number | undefined, streams: number, jobs: number, emit: (e: ProgressEvent) => void): Promise<Destination> {
  const transport = target.transport ?? "auto";
  if (transport !== "sftp" && target.connections === undefined) {
    try {
      return await OpenSshDestination.open(target.connection, { streams: asked, jobs, multiplex: target.multiplex });
    } catch (e) {
      if (!(e instanceof OpenSshUnavailable)) throw e;
      if (transport === "openssh") throw new TransferError("CONNECTION", `${e.message} (or use the sftp transport)`, e);
      emit({ type: "notice", message: `${e.message}; using SFTP (ssh2) instead` });
    }
  }
  return SftpDestination.open(target.connection, { streams, connections: target.connections });
}

/**
 * Where the copy lands. A file goes into DST when DST is an existing directory or ends with
 * "/", else to DST itself. A directory goes to DST itself (created or merged into, so running
 * the same command again, e.g. with --resume, lands in the same place); a DST ending with "/"
 * means "into it", as DST/<name>.
 */
async function resolveDestRoot(dest: Destination, root: SourceEntry, targetPath: string, exact: boolean): Promise<string> {
  const into = !exact && targetPath.endsWith("/");
  const bare = into && targetPath.length > 1 ? targetPath.replace(/\/+$/, "") : targetPath;
  const st = await dest.stat(bare);
  let destRoot = bare;
  if (into || (!exact && root.type === "file" && st?.isDirectory)) {
    if (into && !st?.isDirectory) throw new TransferError("IO", `destination directory ${bare} does not exist on ${dest.label}: create it first`);
    destRoot = path.posix.join(bare, path.basename(root.abs));
  }
  const final = destRoot === bare ? st : await dest.stat(destRoot);
  if (final && root.type === "dir" && !final.isDirectory) {
    throw new TransferError("USAGE", `cannot copy directory ${root.abs} onto the file ${destRoot}: name a directory`);
  }
  if (final?.isDirectory && root.type === "file") {
    throw new TransferError("USAGE", `cannot copy file ${root.abs} onto the directory ${destRoot}`);
  }
  const parent = path.posix.dirname(destRoot);
  if (!(await dest.stat(parent))?.isDirectory) {
    throw new TransferError("IO", `destination directory ${parent} does not exist on ${dest.label}: create it first`);
  }
  return destRoot;
}

async function checkFreeSpace(
  dest: Destination,
  destRoot: string,
  files: SourceEntry[],
  destOf: (e: SourceEntry) => string,
  resume: boolean,
): Promise<void> {
  let needed = files.reduce((n, f) => n + f.size, 0);
  if (needed === 0) return;
  if (resume) {
    for (const f of files) needed -= (await dest.stat(partPath(destOf(f))))?.size ?? 0;
  }
  const dir = (await dest.stat(destRoot))?.isDirectory ? destRoot : path.posix.dirname(destRoot);
  const free = await dest.freeBytes(dir);
  if (free !== undefined && free < needed) {
    throw new TransferError(
      "NO_SPACE",
      `not enough space on ${dest.label} in ${dir}: ${needed} bytes needed, ${free} free; free space or copy elsewhere (nothing was written)`,
    );
  }
}

/** A small file in one go: `<dest>.part`, verify, fsync, rename, mtime. */
async function copyWhole(ctx: FileContext, f: SourceEntry, destPath: string, stream: number, ring: Ring): Promise<void> {
  const part = partPath(destPath);
  let src: fs.promises.FileHandle;
  try {
    src = await fs.promises.open(f.abs, "r");
  } catch (e) {
    throw classify(e, "source", f.abs);
  }
  const pf = await ctx.dest.openPart(part, f.size, true).catch(async (e) => {
    await src.close();
    throw e;
  });
  try {
    const remoteHash = ctx.verify && ctx.dest.hashRange !== undefined;
    const readBack = ctx.verify && !remoteHash ? (b: Buffer, n: number, pos: number) => pf.read(b, n, pos, stream) : undefined;
    for (let attempt = 1; ; attempt++) {
      let copied = 0;
      let ok = true;
      try {
        // SHA-256 in this process: a small file is one hash, not worth an xxh128sum process
        const hex = await pumpRange(ring, ctx.pool.begin("sha256"), (b, n, pos) => src.read(b, 0, n, pos).then((r) => r.bytesRead), (b, n, pos) => pf.write(b, n, pos, stream), 0, f.size, `source ${f.abs}`, (n) => {
          copied += n;
          ctx.progress(0, n);
        }, readBack);
        if (remoteHash && f.size > 0) ok = (await ctx.dest.hashRange!(part, 0, f.size, stream, "sha256")) === hex;
      } catch (e) {
        if (!(e instanceof BlockMismatch)) throw e;
        ok = false;
      }
      if (ok) break;
      ctx.progress(0, -copied);
      if (attempt >= 3) throw new TransferError("VERIFY", `${destPath}: read back differently from what was written, 3 times: the destination is corrupting data`);
    }
    const st = await src.stat();
    if (st.size !== f.size || Math.abs(st.mtimeMs - f.mtimeMs) >= 1) {
      throw new TransferError("SOURCE_CHANGED", `source ${f.abs} changed while it was being copied; nothing was written under the final name; run again`);
    }
    ctx.progress(f.size, 0);
    await pf.sync();
    await pf.close();
    await ctx.dest.rename(part, destPath);
    await ctx.dest.setMtime(destPath, f.mtimeMs);
  } catch (e) {
    await pf.close().catch(() => undefined);
    await ctx.dest.remove(part);
    throw e;
  } finally {
    await src.close().catch(() => undefined);
  }
}
