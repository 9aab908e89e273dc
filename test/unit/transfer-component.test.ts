/** ParallelTransfer under setMocks: what it hands the engine, defaults, validation; the fingerprint. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ParallelTransfer, parallelTransferSpec, resolveParallelTransfer, validateParallelTransfer } from "../../components/transfer";
import { fingerprintOf, listLocal } from "../../components/transfer/fingerprint";
import { kind } from "../../components/transfer/parallelTransferKind";
import { mockPulumi, resolved, unwrapSecret as unwrap } from "./mocks";

const { registered } = mockPulumi();


let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-ptu-"));
  fs.mkdirSync(path.join(dir, "tree/sub"), { recursive: true });
  fs.writeFileSync(path.join(dir, "tree/a"), "alpha");
  fs.writeFileSync(path.join(dir, "tree/sub/b"), "beta");
  fs.writeFileSync(path.join(dir, "one.img"), "image");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("ParallelTransfer", () => {
  it("registers a kvmshare:transfer component with one host resource <name>-copy, defaults resolved", async () => {
    const src = path.join(dir, "one.img");
    const c = new ParallelTransfer("img", { source: src, destination: "/srv/images/one.img" });
    await resolved(c.copy.urn);
    expect(registered.find((a) => a.name === "img")!.type).toBe("kvmshare:transfer:ParallelTransfer");
    const copy = registered.find((a) => a.name === "img-copy")!;
    expect(copy.type).toBe("pulumi-nodejs:dynamic/kvmshare:ParallelTransfer");
    expect(copy.inputs.spec).toEqual({
      source: src,
      destination: "/srv/images/one.img",
      sourceFingerprint: fingerprintOf(listLocal(src, "mtime")),
      changeDetection: "mtime",
      verify: true,
      allowDestroy: false,
    });
    expect(unwrap(copy.inputs.connection)).toEqual({ kind: "local" });
  });

  it("passes streams, chunk size in bytes, verify, sha256 detection and a destination from an output", async () => {
    const src = path.join(dir, "tree");
    const c = new ParallelTransfer("tree", { source: src, destination: pulumi.output("/mnt/share/tree"), streams: 6, chunkSize: "32M", verify: false, changeDetection: "sha256", allowDestroy: true });
    await resolved(c.copy.urn);
    const copy = registered.find((a) => a.name === "tree-copy")!;
    expect(copy.inputs.spec).toMatchObject({ destination: "/mnt/share/tree", streams: 6, chunkSizeBytes: 32 * 1024 * 1024, verify: false, changeDetection: "sha256", allowDestroy: true });
    expect(copy.inputs.spec.sourceFingerprint).toBe(fingerprintOf(listLocal(src, "sha256")));
  });

  it.each([
    ["defaults", { destination: "/srv/images/one.img" }],
    ["every field", { destination: "/mnt/share/one.img", streams: 3, chunkSize: "8M", verify: false, changeDetection: "sha256" as const, allowDestroy: true }],
  ])("hands the kind parallelTransferSpec(resolveParallelTransfer(args)) (%s): the spec is derived from the Args", async (label, extra) => {
    const name = `derived-${label.replace(/ /g, "-")}`;
    const args = { source: path.join(dir, "one.img"), ...extra };
    const c = new ParallelTransfer(name, args);
    await resolved(c.copy.urn);
    const copy = registered.find((a) => a.name === `${name}-copy`)!;
    const fp = fingerprintOf(listLocal(args.source, "changeDetection" in args ? args.changeDetection : "mtime"));
    expect(copy.inputs.spec).toEqual(parallelTransferSpec(resolveParallelTransfer(args), args.destination, fp));
  });

  it.each([
    [{ source: "rel/path", destination: "/x" }, /source: must be an absolute path/],
    [{ source: "/x", destination: "rel" }, /destination: must be an absolute path/],
    [{ source: "/x", destination: "/srv/" }, /destination: must name the copy itself/],
    [{ source: "/x", destination: "/y", streams: 65 }, /streams: must be an integer from 1 to 64/],
    [{ source: "/x", destination: "/y", chunkSize: "2K" }, /chunkSize: must be from 4K to 4G/],
    [{ source: "/x", destination: "/y", chunkSize: "huge" }, /chunkSize/],
    [{ source: "/x", destination: "/y", changeDetection: "ctime" }, /changeDetection: must be one of mtime, sha256/],
    [{ source: "/nonexistent/kvmshare", destination: "/y" }, /source: does not exist on the machine running Pulumi/],
  ])("rejects %j", (args, re) => {
    const problems = validateParallelTransfer(args as never).map((p) => `${p.field}: ${p.message}`);
    expect(problems.join("\n")).toMatch(re);
  });

  it("accepts good args", () => {
    expect(validateParallelTransfer({ source: path.join(dir, "one.img"), destination: "/srv/one.img", streams: 4, chunkSize: "64M" })).toEqual([]);
  });
});

describe("source fingerprint", () => {
  it("does not depend on listing order, and changes with size, mtime or name", () => {
    const a = [
      { rel: "x", size: 1, stamp: "10" },
      { rel: "y/z", size: 2, stamp: "11" },
    ];
    expect(fingerprintOf(a)).toBe(fingerprintOf([...a].reverse()));
    expect(fingerprintOf(a)).toMatch(/^2:[0-9a-f]{64}$/);
    for (const changed of [
      [{ ...a[0], size: 3 }, a[1]],
      [{ ...a[0], stamp: "12" }, a[1]],
      [{ ...a[0], rel: "w" }, a[1]],
      [a[0]],
    ]) {
      expect(fingerprintOf(changed)).not.toBe(fingerprintOf(a));
    }
  });

  it("lists a tree's files with sizes and whole-second mtimes, or content hashes", () => {
    const t = new Date("2026-01-02T03:04:05.678Z");
    fs.utimesSync(path.join(dir, "tree/a"), t, t);
    const lines = listLocal(path.join(dir, "tree"), "mtime").sort((x, y) => x.rel.localeCompare(y.rel));
    expect(lines.map((l) => l.rel)).toEqual(["a", "sub/b"]);
    expect(lines[0]).toEqual({ rel: "a", size: 5, stamp: String(Math.floor(t.getTime() / 1000)) });
    const hashed = listLocal(path.join(dir, "tree"), "sha256").find((l) => l.rel === "a")!;
    expect(hashed.stamp).toBe("8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8"); // sha256("alpha")
    expect(listLocal(path.join(dir, "one.img"), "mtime")).toEqual([expect.objectContaining({ rel: "", size: 5 })]);
  });

  it("the kind renders the desired state from the source fingerprint and never deletes data by default", async () => {
    expect(kind.render({ sourceFingerprint: "1:abc" } as never, {})).toEqual({ fingerprint: "1:abc" });
    const ran: string[][] = [];
    const host = { label: "test", run: async (argv: string[]) => (ran.push(argv), { stdout: "", stderr: "", code: 0 }) };
    const logs: string[] = [];
    await kind.remove(host as never, { destination: "/srv/x", allowDestroy: false } as never, undefined, (m) => logs.push(m));
    expect(ran).toEqual([]);
    expect(logs.join()).toMatch(/leaving \/srv\/x on test in place \(set allowDestroy: true/);
    await kind.remove(host as never, { destination: "/srv/x", allowDestroy: true } as never, undefined, (m) => logs.push(m));
    expect(ran).toEqual([]); // directly inside /srv: never deleted
    expect(logs.join()).toMatch(/not deleting \/srv\/x on test: it is directly inside the system directory \/srv/);
  });

  it("removes only the files it copied, then the directories they leave empty; never a system path", async () => {
    const ran: string[][] = [];
    const listing = "a\t5\t100.5\nsub/b\t4\t100.2\nsub/c\t1\t1.0\nnotes.txt\t3\t200.0\n";
    const host = {
      label: "test",
      run: async (argv: string[]) => {
        ran.push(argv);
        if (argv[0] === "find") return { stdout: listing, stderr: "", code: 0 };
        return { stdout: "", stderr: "", code: 0 };
      },
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-rm-"));
    fs.mkdirSync(path.join(dir, "src", "sub"), { recursive: true });
    fs.writeFileSync(path.join(dir, "src", "a"), "alpha");
    fs.writeFileSync(path.join(dir, "src", "sub", "b"), "beta");
    const logs: string[] = [];
    const spec = { source: path.join(dir, "src"), destination: "/srv/data/tree", allowDestroy: true, changeDetection: "mtime", sourceFingerprint: "2:x" };
    await kind.remove(host as never, spec as never, { fingerprint: "2:x" }, (m) => logs.push(m));
    const rm = ran.filter((a) => a[0] === "rm");
    expect(rm).toEqual([["rm", "-f", "--", "/srv/data/tree/a", "/srv/data/tree/sub/b"]]);
    expect(ran.filter((a) => a[0] === "rmdir")).toEqual([
      ["rmdir", "--ignore-fail-on-non-empty", "--", "/srv/data/tree/sub"],
      ["rmdir", "--ignore-fail-on-non-empty", "--", "/srv/data/tree"],
    ]);
    expect(logs.join()).toMatch(/removed 2 files .*left 2 files it did not write/);
    for (const destination of ["/", "/etc", "/usr/lib", "/home/alice", "/lib64", "/var/lib"]) {
      ran.length = 0;
      await kind.remove(host as never, { ...spec, destination } as never, undefined, () => undefined);
      expect(ran).toEqual([]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("resolveParallelTransfer", () => {
  it("fills the defaults table, keeps the unset fields unset and converts the chunk size", async () => {
    const { PARALLEL_TRANSFER_DEFAULTS, resolveParallelTransfer } = await import("../../components/transfer");
    const r = resolveParallelTransfer({ source: "/a", destination: "/b" });
    expect(r).toEqual({ source: "/a", destination: "/b", ...PARALLEL_TRANSFER_DEFAULTS });
    expect(r).toMatchObject({ verify: true, changeDetection: "mtime", allowDestroy: false });
    expect(resolveParallelTransfer({ source: "/a", destination: "/b", chunkSize: "1M", verify: false }).chunkSizeBytes).toBe(1024 * 1024);
  });
});
