import { defaultChunkSize, defaultStreams, GiB, KiB, MiB, parallelWork, planChunks, planTree, SshProbe, sshCiphers, sshStreams } from "../../transfer/plan";

describe("planChunks", () => {
  const C = 64 * KiB;
  it.each([
    [0, 0],
    [1, 1],
    [C - 1, 1],
    [C, 1],
    [C + 1, 2],
    [5 * C + 7, 6],
  ])("a %i-byte file has %i chunks that tile it exactly", (size, count) => {
    const chunks = planChunks(size, C);
    expect(chunks).toHaveLength(count);
    let next = 0;
    chunks.forEach((c, i) => {
      expect(c.index).toBe(i);
      expect(c.offset).toBe(next);
      expect(c.length).toBeGreaterThan(0);
      expect(c.length).toBeLessThanOrEqual(C);
      next += c.length;
    });
    expect(next).toBe(size);
  });

  it("only the last chunk is short", () => {
    const chunks = planChunks(3 * C + 5, C);
    expect(chunks.map((c) => c.length)).toEqual([C, C, C, 5]);
  });

  it("rejects negative sizes and zero chunk sizes", () => {
    expect(() => planChunks(-1, C)).toThrow(/size must be a non-negative integer/);
    expect(() => planChunks(10, 0)).toThrow(/chunkSize must be a positive integer/);
  });
});

describe("defaultChunkSize", () => {
  it.each([
    [0, 8 * MiB],
    [100 * MiB, 8 * MiB],
    [2 * GiB, 64 * MiB],
    [10 * GiB, 256 * MiB],
    [1024 * GiB, 256 * MiB],
  ])("a %i-byte file gets %i-byte chunks", (size, chunk) => {
    expect(defaultChunkSize(size)).toBe(chunk);
  });
});

describe("defaultStreams", () => {
  it("depends on cores and destination, not a constant", () => {
    expect(defaultStreams({ cores: 2, destination: "local" })).toBe(4);
    expect(defaultStreams({ cores: 8, destination: "local" })).toBe(8);
    expect(defaultStreams({ cores: 1, destination: "local" })).toBe(2);
    expect(defaultStreams({ cores: 2, destination: "ssh" })).toBe(2);
    expect(defaultStreams({ cores: 6, destination: "ssh" })).toBe(6);
    expect(defaultStreams({ cores: 32, destination: "ssh" })).toBe(8);
  });
  it("never exceeds the work available", () => {
    expect(defaultStreams({ cores: 8, destination: "local", jobs: 3 })).toBe(3);
    expect(defaultStreams({ cores: 8, destination: "local", jobs: 0 })).toBe(1);
  });
});

describe("sshStreams and sshCiphers: the probe's choices", () => {
  const lan: SshProbe = { localCores: 8, remoteCores: 4, sameKernel: false, rttMs: 0.3, localAes: true, remoteAes: true };
  it("one stream per core of the scarcer end; half the cores when both ends are one kernel", () => {
    expect(sshStreams(lan)).toBe(4);
    expect(sshStreams({ ...lan, remoteCores: 16 })).toBe(8);
    expect(sshStreams({ ...lan, localCores: 2, remoteCores: 2, sameKernel: true })).toBe(1);
    expect(sshStreams({ ...lan, localCores: 8, remoteCores: 8, sameKernel: true })).toBe(4);
    expect(sshStreams({ ...lan, localCores: 1, remoteCores: 1 })).toBe(1);
  });
  it("a long round trip adds streams (a stream carries one 2 MiB window per RTT), up to 8, never more than the work", () => {
    expect(sshStreams({ ...lan, localCores: 1, remoteCores: 1, rttMs: 5.8 })).toBe(3); // 1 GiB/s x 5.8 ms = 5.9 MiB: 3 windows
    expect(sshStreams({ ...lan, rttMs: 80 })).toBe(8);
    expect(sshStreams({ ...lan, rttMs: 80 }, 2)).toBe(2);
  });
  it("AES-GCM first only when both ends have AES-NI", () => {
    expect(sshCiphers(lan)[0]).toBe("aes128-gcm@openssh.com");
    expect(sshCiphers({ localAes: true, remoteAes: false })[0]).toBe("chacha20-poly1305@openssh.com");
    expect(sshCiphers({ localAes: false, remoteAes: true })[0]).toBe("chacha20-poly1305@openssh.com");
  });
});

describe("planTree", () => {
  it("chunks large files and batches small ones, large first", () => {
    const files = [
      { rel: "a", size: 10 },
      { rel: "big", size: 100 * MiB },
      { rel: "b", size: 0 },
      { rel: "c", size: 3 * MiB },
    ];
    const jobs = planTree(files, { chunkSize: 16 * MiB });
    expect(jobs[0]).toEqual({ kind: "file", file: 1, chunks: 7 });
    expect(jobs.slice(1)).toEqual([{ kind: "batch", files: [0, 2, 3], bytes: 3 * MiB + 10 }]);
    expect(parallelWork(jobs)).toBe(8);
  });

  it("splits batches by bytes and by count", () => {
    const many = Array.from({ length: 600 }, (_, i) => ({ rel: `f${i}`, size: 1 }));
    expect(planTree(many).map((j) => (j.kind === "batch" ? j.files.length : -1))).toEqual([256, 256, 88]);
    const medium = Array.from({ length: 5 }, (_, i) => ({ rel: `m${i}`, size: 7 * MiB }));
    expect(planTree(medium).map((j) => (j.kind === "batch" ? j.files.length : -1))).toEqual([4, 1]);
  });

  it("with smallFileMax 0 every non-empty file is chunked and an empty one is a batch", () => {
    expect(planTree([{ rel: "", size: 1 }], { smallFileMax: 0, chunkSize: 4096 })).toEqual([{ kind: "file", file: 0, chunks: 1 }]);
    expect(planTree([{ rel: "", size: 0 }], { smallFileMax: 0 })).toEqual([{ kind: "batch", files: [0], bytes: 0 }]);
  });
});
