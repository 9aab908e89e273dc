/**
 * One large file copied chunk by chunk into `<dest>.part`, with its resume manifest.
 * Streams call `runChunk` for the chunks in any order; the stream that completes the last
 * chunk calls `finish`, which checks the source did not change, fsyncs, renames into place
 * and sets the source's mtime.
 */
import * as fs from "fs";
import { Destination, PartFile } from "./destination";
import { classify, TransferError } from "./errors";
import { HashPool } from "./hasher";
import {
  Manifest,
  manifestMismatch,
  manifestPath,
  newManifest,
  parseManifest,
  partPath,
  serializeManifest,
  SourceIdentity,
} from "./manifest";
import { BlockMismatch, Ring, pumpRange } from "./pipe";
import { Chunk, planChunks } from "./plan";

export interface FileContext {
  dest: Destination;
  pool: HashPool;
  verify: boolean;
  resume: boolean;
  notice(message: string): void;
  /** `done` = bytes of the source now complete, `copied` = bytes sent this run. */
  progress(done: number, copied: number): void;
}

export interface FileSpec {
  src: string;
  dest: string;
  size: number;
  mtimeMs: number;
  /** Chunk size; on resume without an explicit one, the manifest's is reused. */
  chunkSize: number;
  chunkSizeExplicit: boolean;
}

/** Attempts per chunk before a verification failure is final. */
const VERIFY_ATTEMPTS = 3;

export class ChunkedFile {
  chunks: Chunk[] = [];
  private manifest!: Manifest;
  private srcFh!: fs.promises.FileHandle;
  private part!: PartFile;
  private remaining = 0;
  /** Chunks the previous run recorded, still to be checked against the part file. */
  private inherited = new Set<number>();
  private saving: Promise<void> | undefined;
  private dirty = false;
  private saveError: unknown;
  /** Remote verifications still running, and chunks whose remote hash did not match. */
  private readonly verifying = new Set<Promise<void>>();
  private readonly unverified: { chunk: Chunk; attempt: number; copied: number }[] = [];
  private verifyError: unknown;
  private closed = false;
  reusedBytes = 0;
  recopiedChunks = 0;

  constructor(private readonly ctx: FileContext, readonly spec: FileSpec) {}

  get partPath(): string {
    return partPath(this.spec.dest);
  }
  get manifestPath(): string {
    return manifestPath(this.spec.dest);
  }

  /** Open the source, decide fresh vs resume, open (or create) the part file. */
  async prepare(): Promise<void> {
    const { dest } = this.ctx;
    try {
      this.srcFh = await fs.promises.open(this.spec.src, "r");
    } catch (e) {
      throw classify(e, "source", this.spec.src);
    }
    const identity: SourceIdentity = { path: this.spec.src, size: this.spec.size, mtimeMs: this.spec.mtimeMs };
    let chunkSize = this.spec.chunkSize;
    let resumed: Manifest | undefined;
    const text = await dest.readText(this.manifestPath);
    if (text !== undefined && this.ctx.resume) {
      const { manifest, problem } = parseManifest(text);
      const partSt = await dest.stat(this.partPath);
      if (manifest && !this.spec.chunkSizeExplicit) chunkSize = manifest.chunkSize;
      const why = problem ?? (manifest && manifestMismatch(manifest, identity, chunkSize, this.ctx.pool.algorithm)) ?? (partSt ? undefined : "the part file is missing");
      if (why) this.ctx.notice(`${this.spec.dest}: cannot resume, starting over: ${why}`);
      else resumed = manifest;
    } else if (await dest.stat(this.partPath)) {
      this.ctx.notice(
        this.ctx.resume
          ? `${this.spec.dest}: cannot resume, starting over: the partial copy has no manifest`
          : `${this.spec.dest}: discarding an earlier partial copy (pass --resume to continue it)`,
      );
    }
    this.chunks = planChunks(this.spec.size, chunkSize);
    this.manifest = resumed ?? newManifest(identity, chunkSize, this.ctx.pool.algorithm);
    for (const k of Object.keys(this.manifest.chunks)) this.inherited.add(Number(k));
    this.part = await dest.openPart(this.partPath, this.spec.size, !resumed);
    this.remaining = this.chunks.length;
    if (resumed) this.ctx.notice(`${this.spec.dest}: resuming, ${this.inherited.size} of ${this.chunks.length} chunks recorded; checking them`);
    await this.save();
  }

  /** Copy (or, on resume, check and possibly re-copy) one chunk. Returns true when it was the last. */
  async runChunk(chunk: Chunk, stream: number, ring: Ring): Promise<boolean> {
    const recorded = this.manifest.chunks[chunk.index];
    if (recorded !== undefined && this.inherited.has(chunk.index)) {
      this.inherited.delete(chunk.index);
      const actual = await this.hashDest(chunk, stream, ring);
      if (actual === recorded) {
        this.reusedBytes += chunk.length;
        this.ctx.progress(chunk.length, 0);
        return --this.remaining === 0;
      }
      this.recopiedChunks++;
      this.ctx.notice(`${this.spec.dest}: chunk ${chunk.index} (bytes ${chunk.offset}-${chunk.offset + chunk.length - 1}) does not match its recorded hash; copying it again`);
      delete this.manifest.chunks[chunk.index];
    }
    await this.copyChunk(chunk, stream, ring, 1);
    return --this.remaining === 0;
  }

  /**
   * Copy one chunk and verify it: each block read back and compared (local/mounted paths), or
   * the chunk's SHA-256 computed where the file is (SSH). The remote hash runs while this
   * stream goes on with its next chunk; `finish` waits for it and re-copies a chunk that failed.
   */
  private async copyChunk(chunk: Chunk, stream: number, ring: Ring, firstAttempt: number): Promise<void> {
    const remoteHash = this.ctx.verify && this.ctx.dest.hashRange !== undefined;
    const readBack = this.ctx.verify && !remoteHash ? (b: Buffer, n: number, pos: number) => this.part.read(b, n, pos, stream) : undefined;
    for (let attempt = firstAttempt; ; attempt++) {
      let copied = 0;
      let hex: string;
      try {
        hex = await pumpRange(
          ring,
          this.ctx.pool.begin(),
          (b, n, pos) => this.srcFh.read(b, 0, n, pos).then((r) => r.bytesRead),
          (b, n, pos) => this.part.write(b, n, pos, stream),
          chunk.offset,
          chunk.length,
          `source ${this.spec.src}`,
          (n) => {
            copied += n;
            this.ctx.progress(0, n);
          },
          readBack,
        );
      } catch (e) {
        if (!(e instanceof BlockMismatch)) throw classify(e, "source", this.spec.src);
        this.rejectChunk(chunk, attempt, copied);
        continue;
      }
      if (!remoteHash) return this.accept(chunk, hex);
      const check = this.hashDest(chunk, stream, ring).then((h) => (h === hex ? this.accept(chunk, hex) : void this.unverified.push({ chunk, attempt, copied })));
      this.verifying.add(check);
      check.catch((e) => (this.verifyError ??= e)).finally(() => this.verifying.delete(check));
      return;
    }
  }

  private accept(chunk: Chunk, hex: string): void {
    this.ctx.progress(chunk.length, 0);
    this.manifest.chunks[chunk.index] = hex;
    this.save().catch(() => undefined); // errors resurface in finish()
  }

  /** A chunk failed verification: say so, or give up after VERIFY_ATTEMPTS. */
  private rejectChunk(chunk: Chunk, attempt: number, copied: number): void {
    this.ctx.progress(0, -copied);
    if (attempt >= VERIFY_ATTEMPTS) {
      throw new TransferError(
        "VERIFY",
        `${this.spec.dest}: chunk ${chunk.index} read back differently from what was written, ${VERIFY_ATTEMPTS} times: the destination is corrupting data (check the disk/share)`,
      );
    }
    this.ctx.notice(`${this.spec.dest}: chunk ${chunk.index} failed verification; copying it again`);
  }

  /** Wait for remote verifications still running; re-copy the chunks that failed. */
  private async settle(stream: number, ring: Ring): Promise<void> {
    for (;;) {
      while (this.verifying.size) await Promise.allSettled([...this.verifying]);
      if (this.verifyError) throw this.verifyError;
      const failed = this.unverified.splice(0);
      if (!failed.length) return;
      for (const f of failed) {
        this.rejectChunk(f.chunk, f.attempt, f.copied);
        await this.copyChunk(f.chunk, stream, ring, f.attempt + 1);
      }
    }
  }

  /** The hash of a chunk as it is in the part file. */
  private async hashDest(chunk: Chunk, stream: number, ring: Ring): Promise<string> {
    const { dest } = this.ctx;
    if (dest.hashRange) return dest.hashRange(this.partPath, chunk.offset, chunk.length, stream, this.ctx.pool.algorithm);
    return pumpRange(ring, this.ctx.pool.begin(), (b, n, pos) => this.part.read(b, n, pos, stream), undefined, chunk.offset, chunk.length, `part file ${this.partPath}`);
  }

  /** Write the manifest atomically; concurrent callers coalesce into at most one more write. */
  save(): Promise<void> {
    if (this.saving) {
      this.dirty = true;
      return this.saving;
    }
    const run = async (): Promise<void> => {
      do {
        this.dirty = false;
        await this.ctx.dest.writeTextAtomic(this.manifestPath, serializeManifest(this.manifest));
      } while (this.dirty);
    };
    this.saving = run().catch((e) => {
      this.saveError ??= e;
      throw e;
    }).finally(() => {
      this.saving = undefined;
    });
    return this.saving;
  }

  /**
   * All chunks are in: wait for their verification, check the source, fsync, rename into place,
   * set mtime, drop the manifest. Returns false (and renames nothing) when `stopped()` says the
   * copy was interrupted meanwhile.
   */
  async finish(stream: number, ring: Ring, stopped: () => boolean = () => false): Promise<boolean> {
    await this.settle(stream, ring);
    if (stopped()) return false; // interrupted meanwhile: keep part + manifest for --resume
    const st = await this.srcFh.stat();
    if (st.size !== this.spec.size || Math.abs(st.mtimeMs - this.spec.mtimeMs) >= 1) {
      await this.discard();
      throw new TransferError(
        "SOURCE_CHANGED",
        `source ${this.spec.src} changed while it was being copied (size ${this.spec.size} -> ${st.size}, ` +
          `mtime ${new Date(this.spec.mtimeMs).toISOString()} -> ${new Date(st.mtimeMs).toISOString()}); nothing was written under the final name; run again`,
      );
    }
    while (this.saving) await this.saving.catch(() => undefined);
    if (this.saveError) throw this.saveError;
    await this.part.sync();
    await this.close();
    await this.ctx.dest.rename(this.partPath, this.spec.dest);
    await this.ctx.dest.setMtime(this.spec.dest, this.spec.mtimeMs);
    await this.ctx.dest.remove(this.manifestPath);
    return true;
  }

  /** Close handles, keeping the part file and manifest for a later --resume. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.verifying.size) await Promise.allSettled([...this.verifying]);
    while (this.saving) await this.saving.catch(() => undefined);
    await this.part?.close().catch(() => undefined);
    await this.srcFh?.close().catch(() => undefined);
  }

  /** Close and delete the part file and manifest (disk full, source changed). */
  async discard(): Promise<void> {
    await this.close();
    await this.ctx.dest.remove(this.partPath);
    await this.ctx.dest.remove(this.manifestPath);
  }
}
