/**
 * The chunk hashers free what they hold when a range fails: an xxh128 chunk is hashed by an
 * `xxh128sum` child fed over a pipe, and a range that fails before its digest (a damaged block,
 * a killed destination) used to leave that child waiting on its stdin for good, which kept the
 * process alive (Jest "did not exit" after the transfer tests; a CLI run would not end).
 */
import { execFileSync } from "child_process";
import { HashPool } from "../../transfer/hasher";
import { pumpRange, Ring } from "../../transfer/pipe";
import { TransferError } from "../../transfer/errors";

/** The xxh128sum processes that are children of this process. */
function xxhChildren(): string[] {
  const out = execFileSync("ps", ["--ppid", String(process.pid), "-o", "pid=,comm="], { encoding: "utf8" });
  return out.split("\n").filter((l) => /xxh128sum/.test(l));
}

describe("a failed range frees its hash", () => {
  it("xxh128: the source ends early (SOURCE_CHANGED), and no xxh128sum child is left", async () => {
    expect(xxhChildren()).toEqual([]);
    const pool = new HashPool(0, "xxh128");
    const ring = new Ring(pool, 2, 64 * 1024);
    let served = 0;
    const read = async (buf: Buffer, n: number): Promise<number> => {
      if (served >= 100 * 1024) return 0; // the source "shrank"
      buf.fill(7, 0, n);
      served += n;
      return n;
    };
    await expect(pumpRange(ring, pool.begin(), read, undefined, 0, 1024 * 1024, "source f")).rejects.toThrow(TransferError);
    // The child is killed at once; give it a moment to be reaped.
    for (let i = 0; i < 50 && xxhChildren().length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(xxhChildren()).toEqual([]);
    await pool.close();
  });

  it("xxh128: a write that fails in flight aborts the hash too, and the same range hashed whole still gives the digest", async () => {
    const pool = new HashPool(0, "xxh128");
    const ring = new Ring(pool, 2, 64 * 1024);
    const read = async (buf: Buffer, n: number): Promise<number> => (buf.fill(1, 0, n), n);
    const write = async (): Promise<void> => {
      throw new Error("destination gone");
    };
    await expect(pumpRange(ring, pool.begin(), read, write, 0, 256 * 1024, "source f")).rejects.toThrow("destination gone");
    for (let i = 0; i < 50 && xxhChildren().length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(xxhChildren()).toEqual([]);
    const hex = await pumpRange(ring, pool.begin(), read, undefined, 0, 256 * 1024, "source f");
    expect(hex).toBe(execFileSync("xxh128sum", [], { input: Buffer.alloc(256 * 1024, 1), encoding: "utf8" }).split(" ")[0]);
    await pool.close();
  });

  it("close() kills a hash that was begun and never finished", async () => {
    const pool = new HashPool(0, "xxh128");
    const h = pool.begin();
    await h.update(Buffer.alloc(1024, 3));
    expect(xxhChildren().length).toBe(1);
    await pool.close();
    for (let i = 0; i < 50 && xxhChildren().length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(xxhChildren()).toEqual([]);
  });
});
