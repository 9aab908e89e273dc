/**
 * The copy engine and CLI on real files: byte-identical around chunk boundaries, directories,
 * resume after SIGKILL at random points, a corrupted chunk found and re-copied, a destination
 * that corrupts writes caught by verify, a full tmpfs, a source changed mid-copy, exit codes.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { atFirstProgress, fillUp, randomFile as randomFileIn } from "../fixtures/files";
import { buildCli, BuiltCli } from "../fixtures/buildCli";
import { killCopyAt } from "../fixtures/copyKill";
import { copy, CopyResult } from "../../transfer/engine";
import { PartFile } from "../../transfer/destination";
import { EXIT_CODES, TransferError } from "../../transfer/errors";
import { LocalDestination } from "../../transfer/local";
import { manifestPath, parseManifest, partPath } from "../../transfer/manifest";
import { ProgressEvent } from "../../transfer/progress";

jest.setTimeout(30_000); // real copies on a shared 2-core machine
const K = 1024;
const CHUNK = 64 * K;

let dir: string;
let cli: BuiltCli;

const randomFile = (name: string, size: number) => randomFileIn(dir, name, size);

function sameBytes(a: string, b: string): boolean {
  return fs.readFileSync(a).equals(fs.readFileSync(b));
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cli.argv[0], [...cli.argv.slice(1), ...args], { env: cli.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-transfer-"));
  cli = buildCli();
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  cli?.remove();
});

describe("byte-identical copies around chunk boundaries", () => {
  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 7 * CHUNK + 123])("a %i-byte file (64 KiB chunks, 3 streams)", async (size) => {
    const src = randomFile(`b-${size}`, size);
    const dst = path.join(dir, `b-${size}.out`);
    const r = await copy(src, { kind: "local", path: dst }, { chunkSize: CHUNK, streams: 3 });
    expect(sameBytes(src, dst)).toBe(true);
    expect(r).toMatchObject({ bytes: size, copiedBytes: size, files: 1, verify: true });
    expect(fs.existsSync(partPath(dst))).toBe(false);
    expect(fs.existsSync(manifestPath(dst))).toBe(false);
    expect(Math.floor(fs.statSync(dst).mtimeMs / 1000)).toBe(Math.floor(fs.statSync(src).mtimeMs / 1000));
  });

  it("copies into an existing directory under the source's name, and overwrites an existing file", async () => {
    const src = randomFile("named.bin", 3 * CHUNK);
    const into = path.join(dir, "into");
    fs.mkdirSync(into);
    fs.writeFileSync(path.join(into, "named.bin"), "old content");
    const r = await copy(src, { kind: "local", path: into }, { chunkSize: CHUNK });
    expect(r.destination).toBe(path.join(into, "named.bin"));
    expect(sameBytes(src, r.destination)).toBe(true);
  });
});

describe("directories", () => {
  it("copies a tree: large files chunked, small files batched, empty files, symlinks, nested dirs", async () => {
    const root = path.join(dir, "tree");
    fs.mkdirSync(path.join(root, "a/b/c"), { recursive: true });
    fs.mkdirSync(path.join(root, "empty-dir"));
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(root, "a", `small-${i}.txt`), crypto.randomBytes(i * 37));
    fs.writeFileSync(path.join(root, "a/b/c/large.bin"), crypto.randomBytes(9 * 1024 * K + 5));
    fs.writeFileSync(path.join(root, "zero"), "");
    fs.symlinkSync("a/small-3.txt", path.join(root, "link"));
    const events: ProgressEvent[] = [];
    const r = await copy(root, { kind: "local", path: path.join(dir, "tree-out") }, { chunkSize: 1024 * K, onEvent: (e) => events.push(e) });
    expect(r.destination).toBe(path.join(dir, "tree-out"));
    expect(r.files).toBe(42);
    execFileSync("diff", ["-r", "--no-dereference", root, path.join(dir, "tree-out")]);
    expect(fs.readlinkSync(path.join(dir, "tree-out/link"))).toBe("a/small-3.txt");
    expect(fs.statSync(path.join(dir, "tree-out/empty-dir")).isDirectory()).toBe(true);
    expect(events.filter((e) => e.type === "file")).toHaveLength(42);
    const last = events.filter((e) => e.type === "progress").pop();
    expect(last).toMatchObject({ doneBytes: r.bytes, totalBytes: r.bytes });
    expect(execFileSync("find", [path.join(dir, "tree-out"), "-name", "*.part*"]).toString()).toBe("");
  });

  it("--resume skips files already copied (same size and mtime) and copies the rest", async () => {
    const root = path.join(dir, "tree2");
    fs.mkdirSync(root);
    for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(root, `f${i}`), crypto.randomBytes(1000 + i));
    const out = path.join(dir, "tree2-out");
    await copy(root, { kind: "local", path: out });
    fs.rmSync(path.join(out, "f3"));
    fs.writeFileSync(path.join(root, "f7"), crypto.randomBytes(2000)); // changed since: size differs
    const r = await copy(root, { kind: "local", path: out }, { resume: true });
    expect(r.copiedBytes).toBe(1003 + 2000);
    execFileSync("diff", ["-r", root, out]);
  });

  it("a DST ending in / receives the directory under its own name", async () => {
    const root = path.join(dir, "tree3");
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, "f"), "x");
    const parent = path.join(dir, "parent");
    fs.mkdirSync(parent);
    const r = await copy(root, { kind: "local", path: parent + "/" });
    expect(r.destination).toBe(path.join(parent, "tree3"));
    expect(fs.readFileSync(path.join(parent, "tree3/f"), "utf8")).toBe("x");
  });
});

describe("resume", () => {
  const SIZE = 32 * 1024 * K;
  const RESUME_CHUNK = 256 * K;
  const chunks = SIZE / RESUME_CHUNK;

  /** Start a copy and SIGKILL it once its manifest records at least `atChunks` chunks (see killCopyAt). */
  const killAt = (src: string, dst: string, atChunks: number, resume: boolean, hash = "xxh128") =>
    killCopyAt(cli, ["--chunk", "256K", "--streams", "4", "--hash", hash, ...(resume ? ["--resume"] : []), src, dst], dst, atChunks);

  it.each([
    [1, "xxh128"],
    [2, "sha256"],
    [3, "xxh128"],
  ])("after SIGKILL at random points (round %i, %s) continues, copies less than the whole, ends identical", async (round, hash) => {
    const src = randomFile(`resume-${round}.bin`, SIZE);
    const dst = path.join(dir, `resume-${round}.out`);
    // Two kills at random points; on a fast run the copy may finish before a kill lands:
    // that is a complete copy (checked), and the round is tried again with earlier points.
    let first = 0;
    for (let scale = 1; ; scale /= 2) {
      first = 1 + crypto.randomInt(Math.max(1, Math.floor((chunks / 2) * scale)));
      const second = first + 1 + crypto.randomInt(Math.max(1, Math.floor((chunks / 3) * scale)));
      if ((await killAt(src, dst, first, false, hash)) && (await killAt(src, dst, second, true, hash))) break;
      expect(sameBytes(src, dst)).toBe(true);
      fs.rmSync(dst);
      expect(scale).toBeGreaterThan(1 / 16);
    }
    expect(fs.existsSync(dst)).toBe(false); // never a partial file under the final name
    expect(fs.existsSync(partPath(dst))).toBe(true);
    const manifest = parseManifest(fs.readFileSync(manifestPath(dst), "utf8")).manifest!;
    expect(manifest.hash).toBe(hash);
    const recorded = Object.keys(manifest.chunks).length;
    expect(recorded).toBeGreaterThanOrEqual(first);

    const res = await runCli(["copy", "--json", "--chunk", "256K", "--hash", hash, "--resume", src, dst]);
    expect(res.code).toBe(0);
    const r = JSON.parse(res.stdout) as CopyResult;
    expect(sameBytes(src, dst)).toBe(true);
    expect(r.reusedBytes).toBeGreaterThanOrEqual(recorded * RESUME_CHUNK);
    expect(r.copiedBytes).toBeLessThan(SIZE);
    expect(r.copiedBytes + r.reusedBytes).toBe(SIZE);
    expect(fs.existsSync(manifestPath(dst))).toBe(false);
  });

  it.each(["xxh128", "sha256"] as const)("finds a corrupted chunk in the part file (%s) and copies it again", async (hash) => {
    const src = randomFile(`corrupt-${hash}.bin`, SIZE);
    const dst = path.join(dir, `corrupt-${hash}.out`);
    expect(await killAt(src, dst, chunks / 4, false, hash)).toBe(true);
    const m = parseManifest(fs.readFileSync(manifestPath(dst), "utf8")).manifest!;
    expect(m.hash).toBe(hash);
    const victim = Number(Object.keys(m.chunks)[0]);
    const fd = fs.openSync(partPath(dst), "r+");
    fs.writeSync(fd, Buffer.from("garbage!"), 0, 8, victim * RESUME_CHUNK + 1000);
    fs.closeSync(fd);
    const notices: string[] = [];
    const r = await copy(src, { kind: "local", path: dst }, { chunkSize: RESUME_CHUNK, hash, resume: true, onEvent: (e) => e.type === "notice" && notices.push(e.message) });
    expect(r).toMatchObject({ recopiedChunks: 1, hash });
    expect(notices.join("\n")).toMatch(new RegExp(`chunk ${victim} .*does not match its recorded hash; copying it again`));
    expect(sameBytes(src, dst)).toBe(true);
  });

  it("a source changed since the partial copy restarts it, saying why", async () => {
    const src = randomFile("changed.bin", SIZE);
    const dst = path.join(dir, "changed.out");
    expect(await killAt(src, dst, 4, false)).toBe(true);
    fs.appendFileSync(src, "more");
    const notices: string[] = [];
    const r = await copy(src, { kind: "local", path: dst }, { resume: true, onEvent: (e) => e.type === "notice" && notices.push(e.message) });
    expect(notices.join("\n")).toMatch(/cannot resume, starting over: the source changed since the partial copy was made \(size 33554432 -> 33554436 bytes\)/);
    expect(r.copiedBytes).toBe(SIZE + 4);
    expect(sameBytes(src, dst)).toBe(true);
  });

  it("without --resume an earlier partial copy is discarded, with a notice", async () => {
    const src = randomFile("fresh.bin", SIZE);
    const dst = path.join(dir, "fresh.out");
    expect(await killAt(src, dst, 4, false)).toBe(true);
    const res = await runCli(["copy", "--progress", "none", src, dst]);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/discarding an earlier partial copy \(pass --resume to continue it\)/);
    expect(sameBytes(src, dst)).toBe(true);
  });
});

/** A local destination whose first write at `badOffset` flips a byte on its way to disk. */
class FlakyDestination extends LocalDestination {
  corrupted = 0;
  constructor(private readonly badOffset: number) {
    super(2);
  }
  async openPart(p: string, size: number, fresh: boolean): Promise<PartFile> {
    const part = await super.openPart(p, size, fresh);
    return {
      ...part,
      write: async (buf, length, position, stream) => {
        if (this.corrupted === 0 && position === this.badOffset) {
          this.corrupted++;
          const bad = Buffer.from(buf.subarray(0, length));
          bad[10] ^= 0xff;
          return part.write(bad, length, position, stream);
        }
        return part.write(buf, length, position, stream);
      },
    };
  }
}

describe("verification", () => {
  it("a chunk damaged on the way is caught by read-back and copied again", async () => {
    const src = randomFile("flaky.bin", 8 * CHUNK);
    const dst = path.join(dir, "flaky.out");
    const flaky = new FlakyDestination(3 * CHUNK);
    const notices: string[] = [];
    await copy(src, { kind: "custom", destination: flaky, path: dst }, { chunkSize: CHUNK, streams: 2, onEvent: (e) => e.type === "notice" && notices.push(e.message) });
    expect(flaky.corrupted).toBe(1);
    expect(notices.join("\n")).toMatch(/chunk 3 failed verification; copying it again/);
    expect(sameBytes(src, dst)).toBe(true);
  });

  it("with --no-verify the same damage goes unnoticed (what verify is for)", async () => {
    const src = randomFile("flaky2.bin", 8 * CHUNK);
    const dst = path.join(dir, "flaky2.out");
    await copy(src, { kind: "custom", destination: new FlakyDestination(3 * CHUNK), path: dst }, { chunkSize: CHUNK, streams: 2, verify: false });
    expect(sameBytes(src, dst)).toBe(false);
  });
});

describe("errors", () => {
  let mnt: string;
  beforeAll(() => {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), "ks-full-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "kstransfer-full", mnt]);
  });
  afterAll(() => {
    execFileSync("umount", [mnt]);
    fs.rmdirSync(mnt);
  });

  it("a file larger than the free space: NO_SPACE before anything is written (exit 4)", async () => {
    const src = randomFile("too-big.bin", 6 * 1024 * K);
    const res = await runCli(["copy", src, path.join(mnt, "too-big.bin")]);
    expect(res.code).toBe(EXIT_CODES.NO_SPACE);
    expect(res.stderr).toMatch(/not enough space on local in .*: 6291456 bytes needed, \d+ free/);
    expect(fs.readdirSync(mnt)).toEqual([]);
  });

  it("the disk filling up mid-copy: NO_SPACE, part file removed, no final file", async () => {
    const src = randomFile("fills.bin", 3 * 1024 * K);
    const dst = path.join(mnt, "fills.bin");
    // Another writer takes the rest of the space once the copy has started.
    const filler = atFirstProgress("copiedBytes", () => fillUp(path.join(mnt, "other-writer")));
    const err = await copy(src, { kind: "local", path: dst }, { chunkSize: 256 * K, streams: 1, onEvent: filler.onEvent }).catch((e) => e);
    expect(filler.fired()).toBe(true);
    expect(err).toBeInstanceOf(TransferError);
    expect(err.code).toBe("NO_SPACE");
    expect(err.message).toMatch(/no space left on the destination while writing .*fills.bin.part/);
    expect(fs.readdirSync(mnt)).toEqual(["other-writer"]);
    fs.rmSync(path.join(mnt, "other-writer"));
  });

  it("an unwritable destination directory: PERMISSION (exit 5)", async () => {
    const ro = path.join(mnt, "ro");
    fs.mkdirSync(ro);
    execFileSync("mount", ["-o", "remount,ro", mnt]);
    try {
      const res = await runCli(["copy", randomFile("small.bin", 1000), path.join(ro, "x")]);
      expect(res.code).toBe(EXIT_CODES.PERMISSION);
      expect(res.stderr).toMatch(/permission denied on the destination: .*ro\/x.part/);
    } finally {
      execFileSync("mount", ["-o", "remount,rw", mnt]);
      fs.rmdirSync(ro);
    }
  });

  it("a source that changes while it is copied: SOURCE_CHANGED, no final file", async () => {
    const src = randomFile("moving.bin", 32 * 1024 * K);
    const dst = path.join(dir, "moving.out");
    const toucher = atFirstProgress("doneBytes", () => fs.appendFileSync(src, "x")); // size and mtime change under the copy
    const err = await copy(src, { kind: "local", path: dst }, { chunkSize: 1024 * K, streams: 2, onEvent: toucher.onEvent }).catch((e) => e);
    expect(err).toBeInstanceOf(TransferError);
    expect(err.code).toBe("SOURCE_CHANGED");
    expect(err.message).toMatch(/changed while it was being copied/);
    expect(fs.existsSync(dst)).toBe(false);
    expect(fs.existsSync(partPath(dst))).toBe(false);
  });

  it("exit codes: missing source 3, usage 2, success 0 with a summary line", async () => {
    expect((await runCli(["copy", path.join(dir, "nope"), path.join(dir, "x")])).code).toBe(EXIT_CODES.SOURCE);
    expect((await runCli(["copy", "--chunk", "0", "a", "b"])).code).toBe(EXIT_CODES.USAGE);
    const src = randomFile("ok.bin", 100 * K);
    const ok = await runCli(["copy", "--progress", "lines", src, path.join(dir, "ok.out")]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^kvmshare: copied 1 file to .*ok.out: 100 KiB in [\d.]+ s \(\d+ MiB\/s, \d streams, verified \((xxh128|sha256)\)\)\n$/);
    expect(ok.stderr).toMatch(/ok.bin -> .*ok.out: 100 KiB in 1 file/);
  });

  it("SIGINT stops the copy with exit 130 and keeps the partial copy for --resume", async () => {
    const src = randomFile("int.bin", 48 * 1024 * K);
    const dst = path.join(dir, "int.out");
    const child = spawn(cli.argv[0], [...cli.argv.slice(1), "copy", "-q", "--chunk", "256K", "--streams", "2", src, dst], { env: cli.env, stdio: "ignore" });
    const code = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    while (!fs.existsSync(manifestPath(dst)) && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    child.kill("SIGINT");
    const c = await code;
    if (c === 0) return expect(sameBytes(src, dst)).toBe(true); // finished before the signal landed
    expect(c).toBe(130);
    expect(fs.existsSync(dst)).toBe(false);
    expect(fs.existsSync(partPath(dst))).toBe(true);
    const r = await copy(src, { kind: "local", path: dst }, { resume: true, chunkSize: 256 * K });
    expect(sameBytes(src, dst)).toBe(true);
    expect(r.copiedBytes).toBeLessThanOrEqual(48 * 1024 * K);
  });
});
