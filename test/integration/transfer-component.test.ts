/**
 * ParallelTransfer through the in-process engine (up / up again / changed source / drift /
 * destroy), copying real files, locally and over SSH to an sshd in a test network namespace.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { NetnsSshd, startNetnsSshd } from "../fixtures/sshd";
import { ParallelTransfer, ParallelTransferArgs } from "../../components/transfer";
import { SshConnectionSpec } from "../../core/connection";
import { Engine } from "../harness/engine";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describeSsh = requirePrograms([...PROGRAMS.sshd, "ip", "nsenter"], { root: true });

jest.setTimeout(30_000); // real copies on a shared 2-core machine
process.env.KVMSHARE_QUIET = "1";

describe("ParallelTransfer on this machine", () => {
  let dir: string;
  let engine: Engine;
  let src: string;
  let dst: string;
  const program = (extra: Partial<ParallelTransferArgs> = {}) => () => {
    new ParallelTransfer("img", { source: src, destination: dst, chunkSize: "1M", ...extra });
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-ptransfer-"));
    src = path.join(dir, "disk.img");
    dst = path.join(dir, "out", "disk.img");
    fs.mkdirSync(path.dirname(dst));
    fs.writeFileSync(src, crypto.randomBytes(5 * 1024 * 1024 + 3));
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("the first up copies the file and reports bytes, seconds and MiB/s", async () => {
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes.map((c) => c.op)).toEqual(["create"]);
    expect(fs.readFileSync(dst).equals(fs.readFileSync(src))).toBe(true);
    const out = r.outputs["img-copy"];
    expect(out.bytes).toBe(5 * 1024 * 1024 + 3);
    expect(out.files).toBe(1);
    expect(out.seconds).toBeGreaterThan(0);
    // seconds is rounded to the millisecond, mibps to 0.1: allow for that
    const expected = (out.bytes as number) / 1048576 / (out.seconds as number);
    expect(Math.abs((out.mibps as number) - expected) / expected).toBeLessThan(0.05);
  });

  it("an unchanged source: the next up does nothing", async () => {
    const before = fs.statSync(dst).ino;
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
    expect(fs.statSync(dst).ino).toBe(before); // not rewritten
  });

  it("a refresh keeps the last copy's figures", async () => {
    const bytes = engine.state()[0].outputs.bytes;
    await engine.refresh();
    expect(engine.state()[0].outputs.bytes).toBe(bytes);
    expect((await engine.preview(program(), { refresh: true })).changes.filter((c) => c.op !== "refresh")).toEqual([]);
  });

  it("a changed source is copied again on up", async () => {
    fs.appendFileSync(src, "more data");
    const future = new Date(Date.now() + 5000);
    fs.utimesSync(src, future, future);
    const p = await engine.preview(program());
    expect(p.changes.map((c) => c.op)).toEqual(["update"]);
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(fs.readFileSync(dst).equals(fs.readFileSync(src))).toBe(true);
    expect(r.outputs["img-copy"].bytes).toBe(5 * 1024 * 1024 + 3 + 9);
  });

  it("a copy edited by hand on the host is drift: preview --refresh reports it, up puts it back", async () => {
    const fd = fs.openSync(dst, "r+");
    fs.writeSync(fd, Buffer.from("tampered"), 0, 8, 100);
    fs.closeSync(fd);
    fs.utimesSync(dst, new Date(), new Date());
    const p = await engine.preview(program(), { refresh: true });
    expect(p.changes.find((c) => c.op === "update")?.diffs).toContain("observed.fingerprint");
    await engine.up(program());
    expect(fs.readFileSync(dst).equals(fs.readFileSync(src))).toBe(true);
  });

  it("changeDetection sha256 sees a content change that keeps size and mtime", async () => {
    const tamper = () => {
      const st = fs.statSync(src);
      const fd = fs.openSync(src, "r+");
      fs.writeSync(fd, Buffer.from([0x42 ^ fs.readFileSync(src)[0]]), 0, 1, 0);
      fs.closeSync(fd);
      fs.utimesSync(src, st.atime, st.mtime);
    };
    tamper();
    expect((await engine.preview(program())).changes).toEqual([]); // mtime mode cannot see it
    const r = await engine.up(program({ changeDetection: "sha256" }));
    expect(r.changes.map((c) => c.op)).toEqual(["update"]);
    expect(fs.readFileSync(dst).equals(fs.readFileSync(src))).toBe(true); // copied: the hashes differed
    expect((await engine.preview(program({ changeDetection: "sha256" }))).changes).toEqual([]);
    tamper();
    expect((await engine.preview(program({ changeDetection: "sha256" }))).changes.map((c) => c.diffs)).toEqual([["spec.sourceFingerprint", "observed.fingerprint"]]);
  });

  it("destroy leaves the copy in place unless allowDestroy", async () => {
    await engine.destroy();
    expect(fs.existsSync(dst)).toBe(true);
    await engine.up(program({ allowDestroy: true }));
    await engine.destroy();
    expect(fs.existsSync(dst)).toBe(false);
  });

  it("rejects bad args before anything runs, naming every field", () => {
    expect(() => new ParallelTransfer("bad", { source: "relative/x", destination: "/srv/x/", streams: 0, chunkSize: "1K", changeDetection: "ctime" as never })).toThrow(
      /ParallelTransfer 'bad': 5 invalid inputs:[\s\S]*source[\s\S]*destination: must name the copy itself[\s\S]*changeDetection[\s\S]*streams[\s\S]*chunkSize/,
    );
    expect(() => new ParallelTransfer("missing", { source: "/nonexistent/kvmshare/x", destination: "/tmp/x" })).toThrow(/source: does not exist on the machine running Pulumi/);
  });
});

describeSsh("ParallelTransfer over SSH (sshd in a test network namespace)", () => {
  let sshd: NetnsSshd;
  let dir: string;
  let engine: Engine;
  let conn: SshConnectionSpec;

  beforeAll(async () => {
    sshd = await startNetnsSshd();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-ptransfer-ssh-"));
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
    conn = { kind: "ssh", host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 };
  }, 30_000);
  afterAll(async () => {
    await sshd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("copies a directory to the host, then does nothing while the source is unchanged", async () => {
    const src = path.join(dir, "src");
    fs.mkdirSync(path.join(src, "d"), { recursive: true });
    fs.writeFileSync(path.join(src, "big"), crypto.randomBytes(12 * 1024 * 1024));
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(src, "d", `f${i}`), `file ${i}\n`);
    const dst = path.join(dir, "remote-copy");
    const program = () => {
      new ParallelTransfer("tree", { source: src, destination: dst, connection: conn, streams: 2, chunkSize: "2M" });
    };
    const r = await engine.up(program);
    expect(r.errors).toEqual([]);
    expect(r.outputs["tree-copy"]).toMatchObject({ files: 6, streams: 2 });
    expect(fs.readFileSync(path.join(dst, "big")).equals(fs.readFileSync(path.join(src, "big")))).toBe(true);
    expect(fs.readFileSync(path.join(dst, "d/f3"), "utf8")).toBe("file 3\n");
    expect((await engine.up(program)).changes).toEqual([]);
    // the private key never lands in state in plain text
    expect(fs.readFileSync(path.join(dir, "state.json"), "utf8")).not.toContain("PRIVATE KEY");
  });
});
