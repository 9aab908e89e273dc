/**
 * The per-stream block pipeline: read block k+1 while block k is being written and hashed
 * (and, when verifying, read back and compared byte for byte). Each stream owns a small ring
 * of shared-memory buffers; a buffer is reused only after its write, hash update and check
 * finished.
 */
import { BLOCK_SIZE } from "./plan";
import { HashHandle, HashPool } from "./hasher";
import { TransferError } from "./errors";

interface Slot {
  buf: Buffer;
  /** Read-back buffer for verification (allocated on first use). */
  check?: Buffer;
  busy: Promise<unknown>;
}

/** A block read back from the destination differed from what was written. */
export class BlockMismatch extends Error {
  constructor(public readonly position: number) {
    super(`block at byte ${position} read back differently`);
  }
}

export class Ring {
  private readonly slots: Slot[];
  private next = 0;

  constructor(pool: HashPool, depth = 3, blockSize = BLOCK_SIZE) {
    this.slots = Array.from({ length: depth }, () => ({ buf: pool.allocate(blockSize), busy: Promise.resolve() }));
  }

  get blockSize(): number {
    return this.slots[0].buf.length;
  }

  /** The next free buffer (waits for its previous write/hash). */
  async acquire(): Promise<Slot> {
    const slot = this.slots[this.next];
    this.next = (this.next + 1) % this.slots.length;
    await slot.busy;
    return slot;
  }

  /** Mark a slot busy until `p` settles; a rejection is reported by `drain`/`acquire`. */
  hold(slot: Slot, p: Promise<unknown>): void {
    p.catch(() => undefined); // awaited later; keep Node from calling it unhandled meanwhile
    slot.busy = p;
  }

  /** Wait for every slot; throws the first failure. */
  async drain(): Promise<void> {
    const results = await Promise.allSettled(this.slots.map((s) => s.busy));
    for (const s of this.slots) s.busy = Promise.resolve();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}

export type ReadAt = (buf: Buffer, length: number, position: number) => Promise<number>;
export type WriteAt = (buf: Buffer, length: number, position: number) => Promise<void>;

/**
 * After each block's write, read it back with `readBack` and compare it with what was written.
 * A byte comparison costs a memcpy and a memcmp, where hashing the read-back would cost
 * another SHA-256 pass (~0.65 s of CPU per GiB here). Throws `BlockMismatch`.
 */
async function checkBlock(slot: Slot, readBack: ReadAt, got: number, at: number): Promise<void> {
  slot.check ??= Buffer.allocUnsafe(slot.buf.length);
  let n = 0;
  while (n < got) {
    const r = await readBack(slot.check.subarray(n), got - n, at + n);
    if (r === 0) break;
    n += r;
  }
  if (n !== got || !slot.buf.subarray(0, got).equals(slot.check.subarray(0, got))) throw new BlockMismatch(at);
}

/**
 * Move `length` bytes at `offset` from `read` to `write` (if given) through the ring, hashing
 * them; returns the SHA-256 hex. With `readBack`, every written block is read back and
 * compared (`BlockMismatch`). `onBytes` is called as each block is done. A short read means
 * the source shrank: that is `SOURCE_CHANGED`.
 */
export async function pumpRange(
  ring: Ring,
  hash: HashHandle,
  read: ReadAt,
  write: WriteAt | undefined,
  offset: number,
  length: number,
  what: string,
  onBytes?: (n: number) => void,
  readBack?: ReadAt,
): Promise<string> {
  const end = offset + length;
  // A range that fails has no digest: its hash is aborted (an xxh128sum child would otherwise
  // wait on its stdin for good).
  try {
    for (let pos = offset; pos < end; ) {
      const slot = await ring.acquire();
      const want = Math.min(ring.blockSize, end - pos);
      let got = 0;
      while (got < want) {
        const n = await read(slot.buf.subarray(got), want - got, pos + got);
        if (n === 0) break;
        got += n;
      }
      if (got < want) {
        throw new TransferError("SOURCE_CHANGED", `${what} ended at byte ${pos + got}, expected ${end}: it changed while being copied; run again`);
      }
      const view = slot.buf.subarray(0, got);
      const at = pos;
      const steps: Promise<unknown>[] = [hash.update(view)];
      if (write) {
        steps.push(
          write(view, got, at)
            .then(() => (readBack ? checkBlock(slot, readBack, got, at) : undefined))
            .then(() => onBytes?.(got)),
        );
      }
      ring.hold(slot, Promise.all(steps));
      pos += got;
    }
  } catch (e) {
    await ring.drain().catch(() => undefined);
    hash.abort();
    throw e;
  }
  try {
    await ring.drain();
  } catch (e) {
    hash.abort();
    throw e;
  }
  return hash.digest();
}
