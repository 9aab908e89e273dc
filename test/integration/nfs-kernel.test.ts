/**
 * NfsExport, kernel backend, against the real `exportfs` (nfs-kernel-server). Everything runs
 * in sandbox directories: the check and the reload run `exportfs` in private mount namespaces
 * where /etc is an overlay and /var/lib/nfs a sandbox directory, so the machine's real
 * /etc/exports(.d) and export table are never touched.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KernelNfsServer, NfsExport } from "../../components/nfs";
import { NFSCONF_CHECK } from "../../components/nfs/kernelNfsServerKind";
import { LocalHost } from "../../core/connection";
import { Engine } from "../harness/engine";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms(PROGRAMS.kernelNfs, { root: true });

// Real programs on a shared 2-core machine: allow for load.
jest.setTimeout(60_000);

// The test's reload: `exportfs -ra` on the sandbox (a constant script; paths as parameters).
const SANDBOX_RELOAD = `set -e
d=$1 lib=$2 count=$3 scratch=$4
mount --make-rprivate /
t=$(mktemp -d "$scratch/ovl.XXXXXX")
mkdir "$t/up" "$t/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$t/up,workdir=$t/work" /etc
mkdir -p /etc/exports.d
mount --bind "$d" /etc/exports.d
: > /etc/exports
mount --bind "$lib" /var/lib/nfs
exportfs -ra
echo reload >> "$count"
`;

describe("NfsExport on the kernel server (exportfs in a private mount namespace)", () => {
  let dir: string;
  let engine: Engine;
  let exportsDir: string;
  let lib: string;
  let data: string;
  let counter: string;
  let reloadCommand: string[];
  const realExports = fs.readFileSync("/etc/exports", "utf8");

  const reloads = () => (fs.existsSync(counter) ? fs.readFileSync(counter, "utf8").split("\n").filter(Boolean).length : 0);
  const etab = () => fs.readFileSync(path.join(lib, "etab"), "utf8");
  const kernel = (extraOptions: string[] = []) => ({ mainExportsFile: "", etabPath: path.join(lib, "etab"), extraOptions });
  const program = (over: Record<string, unknown> = {}) => () => {
    new NfsExport("guests", {
      path: data,
      clients: ["192.168.122.10", { host: "10.10.0.0/24", access: "ro" }, "localhost"],
      access: "rw",
      fsid: 101,
      exportsDir,
      reloadCommand,
      kernel: kernel(),
      ...over,
    });
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-exports-kernel-"));
    exportsDir = path.join(dir, "exports.d");
    lib = path.join(dir, "lib");
    data = path.join(dir, "data");
    counter = path.join(dir, "reloads");
    for (const d of [lib, data, path.join(dir, "scratch")]) fs.mkdirSync(d);
    reloadCommand = ["unshare", "-m", "sh", "-c", SANDBOX_RELOAD, "sh", exportsDir, lib, counter, path.join(dir, "scratch")];
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    // The machine's own exports file is exactly as it was.
    expect(fs.readFileSync("/etc/exports", "utf8")).toBe(realExports);
    expect(fs.existsSync("/etc/exports.d/guests.exports")).toBe(false);
  });

  it("the rendered export is accepted by exportfs and reaches the server's table after the reload", async () => {
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    const file = path.join(exportsDir, "guests.exports");
    const text = fs.readFileSync(file, "utf8");
    expect(text).toContain(`"${data}" 192.168.122.10(rw,sync,root_squash,no_subtree_check,sec=sys,fsid=101)`);
    expect(text).toContain("10.10.0.0/24(ro,sync,root_squash");
    expect(reloads()).toBe(1);
    // exportfs -ra wrote the export table of the sandbox: the server would now serve it.
    expect(etab()).toMatch(new RegExp(`^${data}\\t192\\.168\\.122\\.10\\(rw,sync,.*root_squash.*fsid=101`, "m"));
    expect(etab()).toMatch(new RegExp(`^${data}\\t10\\.10\\.0\\.0/24\\(ro,`, "m"));
    expect(r.outputs["guests-export"].file).toBe(file);
  });

  it("a second up changes nothing and does not reload", async () => {
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
    expect(reloads()).toBe(1);
  });

  it("an option exportfs does not know is refused, and the live file and server stay as they were", async () => {
    const file = path.join(exportsDir, "guests.exports");
    const before = fs.readFileSync(file, "utf8");
    const r = await engine.up(program({ kernel: kernel(["bogus_option"]) }));
    expect(r.errors.join("\n")).toMatch(/exportfs refused the new .*guests\.exports/);
    expect(r.errors.join("\n")).toMatch(/unknown keyword "bogus_option"/);
    expect(fs.readFileSync(file, "utf8")).toBe(before);
    expect(reloads()).toBe(1);
    expect(fs.readdirSync(exportsDir)).toEqual(["guests.exports"]);
  });

  it("an option change is checked, written and reloaded", async () => {
    const r = await engine.up(program({ kernel: kernel(["crossmnt"]) }));
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.op)).toEqual(["update"]);
    expect(reloads()).toBe(2);
    expect(etab()).toMatch(/192\.168\.122\.10\(rw,.*crossmnt/);
  });

  it("drift: an export edited by hand is reported after refresh, and the next up restores it", async () => {
    const file = path.join(exportsDir, "guests.exports");
    fs.writeFileSync(file, `"${data}" *(rw,no_root_squash,no_subtree_check)\n`);
    const p = await engine.preview(program({ kernel: kernel(["crossmnt"]) }), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.find((s) => s.op === "update")?.diffs).toContain("observed.content");
    expect(fs.readFileSync(file, "utf8")).toContain("*(rw,no_root_squash"); // preview changed nothing
    const u = await engine.up(program({ kernel: kernel(["crossmnt"]) }));
    expect(u.errors).toEqual([]);
    expect(fs.readFileSync(file, "utf8")).not.toContain("no_root_squash");
    expect(etab()).not.toMatch(/\*\(/);
    const again = await engine.preview(program({ kernel: kernel(["crossmnt"]) }), { refresh: true });
    expect(again.changes.filter((s) => s.op !== "refresh")).toEqual([]);
  });

  it("drift: an export withdrawn from the kernel's table by hand (exportfs -u) is reported, and up re-exports it", async () => {
    const UNEXPORT = `set -e
mount --make-rprivate /
mount --bind "$1" /var/lib/nfs
exportfs -u "$2:$3"`;
    const r = spawnSync("unshare", ["-m", "sh", "-c", UNEXPORT, "sh", lib, "192.168.122.10", data], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(etab()).not.toMatch(/\t192\.168\.122\.10\(/);
    const p = await engine.preview(program({ kernel: kernel(["crossmnt"]) }), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.find((s) => s.op === "update")?.diffs).toEqual(["observed.inactiveClients"]);
    const refreshed = engine.state().find((x) => x.name === "guests-export");
    expect((refreshed?.outputs.observed as { inactiveClients: string[] }).inactiveClients).toEqual(["192.168.122.10"]);
    const before = reloads();
    const u = await engine.up(program({ kernel: kernel(["crossmnt"]) }));
    expect(u.errors).toEqual([]);
    expect(reloads()).toBe(before + 1);
    expect(etab()).toMatch(/\t192\.168\.122\.10\(rw,/);
  });

  it("a client name that does not resolve is refused before it goes live (exportfs only warns and drops it)", async () => {
    const file = path.join(exportsDir, "guests.exports");
    const before = fs.readFileSync(file, "utf8");
    const r = await engine.up(program({ clients: ["192.168.122.10", "no-such-guest.invalid"], kernel: kernel(["crossmnt"]) }));
    expect(r.errors.join("\n")).toMatch(/exportfs accepted .*guests\.exports but would not export .* to no-such-guest\.invalid; the live file was left as it was[\s\S]*Failed to resolve no-such-guest\.invalid[\s\S]*Use the clients' addresses/);
    expect(fs.readFileSync(file, "utf8")).toBe(before);
  });

  it("a conflicting export written by hand in exports.d is reported at preview, naming the file", async () => {
    const other = path.join(exportsDir, "handmade.exports");
    fs.writeFileSync(other, `${data} 192.168.122.10(ro,sync,no_subtree_check)\n`);
    try {
      const p = await engine.preview(program({ kernel: kernel(["nohide"]) }));
      expect(p.errors.join("\n")).toMatch(/clients: .* is already exported to 192\.168\.122\.10 by .*handmade\.exports with other options \(ro/);
    } finally {
      fs.rmSync(other);
    }
  });

  it("a path that does not exist is refused at preview, before the host changes", async () => {
    const p = await engine.preview(() => {
      new NfsExport("missing", { path: path.join(dir, "no-such-dir"), clients: ["192.168.122.10"], exportsDir, reloadCommand, kernel: { mainExportsFile: "" } });
    });
    expect(p.errors.join("\n")).toMatch(/path: does not exist \(or is not a directory\) on local; create it first.*no-such-dir/);
    expect(fs.existsSync(path.join(exportsDir, "missing.exports"))).toBe(false);
  });

  it("invalid exports are refused in the program with every problem at once", async () => {
    const p = await engine.preview(() => {
      new NfsExport("bad", {
        path: data,
        clients: ["*", { host: "10.0.0.0/33", squash: "no_root_squash" }, { host: "192.168.1.5", anonuid: -1 }],
        sec: ["sys", "krb9" as never],
        fsid: "abc",
        exportsDir,
      });
    });
    const all = p.errors.join("\n");
    expect(all).toMatch(/clients\[0\]\.host: opens the share to every host .*allowAnyClient: true.*got '\*'/);
    expect(all).toMatch(/clients\[1\]\.host: must be an IP address, a CIDR.*got '10\.0\.0\.0\/33'/);
    expect(all).toMatch(/clients\[1\]\.squash: lets root on the client act as root.*acknowledgeNoRootSquash/);
    expect(all).toMatch(/clients\[2\]\.anonuid: must be an integer from 0 to 4294967294/);
    // an export-wide option is reported once, under its own name
    expect(all).toMatch(/\n  - sec\[1\]: must be one of sys, krb5, krb5i, krb5p \(got 'krb9'\)/);
    expect(all).not.toMatch(/clients\[\d\]\.sec/);
    expect(all).toMatch(/fsid: must be an integer .*got 'abc'/);
    const none = await engine.preview(() => {
      new NfsExport("none", { path: data, clients: [], exportsDir });
    });
    expect(none.errors.join("\n")).toMatch(/NfsExport none.*clients: must list at least one client/s);
  });

  it("two exports in one program that export a path to the same client with other options are refused", async () => {
    const p = await engine.preview(() => {
      new NfsExport("one", { path: data, clients: ["192.168.122.20"], access: "rw", exportsDir, reloadCommand, kernel: { mainExportsFile: "" } });
      new NfsExport("two", { path: data, clients: ["192.168.122.20"], access: "ro", exportsDir, reloadCommand, kernel: { mainExportsFile: "" } });
    });
    expect(p.errors.join("\n")).toMatch(/NfsExport two.*clients: .* is also exported to 192\.168\.122\.20 by NfsExport 'one' with other options \(rw/s);
  });

  it("measures apply + reload time of an export change (exportfs check + write + exportfs -ra)", async () => {
    const over = { kernel: kernel(["crossmnt", "nohide"]) };
    const t0 = process.hrtime.bigint();
    const r = await engine.up(program(over));
    const t1 = process.hrtime.bigint();
    expect(r.errors).toEqual([]);
    expect(etab()).toMatch(/192\.168\.122\.10\(rw,.*nohide/);
    const n0 = process.hrtime.bigint();
    await engine.up(program(over));
    const n1 = process.hrtime.bigint();
    console.log(`kernel exports bench: change applied (exportfs check in a private namespace + write + exportfs -ra) in ${(Number(t1 - t0) / 1e6).toFixed(0)} ms; no-change up ${(Number(n1 - n0) / 1e6).toFixed(0)} ms`);
  });

  it("destroy removes the export file and reloads, so the server no longer exports the path", async () => {
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(path.join(exportsDir, "guests.exports"))).toBe(false);
    expect(etab()).not.toContain(data);
  });

  describe("KernelNfsServer: NFSv4.x only", () => {
    let conf: string;
    let restarts: string;
    const RESTART = 'echo restart >> "$1"';
    const server = (over: Record<string, unknown> = {}) => () => {
      new KernelNfsServer("nfsd", { confPath: conf, restartCommand: ["sh", "-c", RESTART, "sh", restarts], ...over });
    };
    const count = () => (fs.existsSync(restarts) ? fs.readFileSync(restarts, "utf8").split("\n").filter(Boolean).length : 0);
    const get = (key: string) => spawnSync("nfsconf", ["--file", conf, "--get", "nfsd", key], { encoding: "utf8" }).stdout.trim();
    let e2: Engine;

    beforeAll(() => {
      conf = path.join(dir, "nfs.conf.d", "kvmshare.conf");
      restarts = path.join(dir, "restarts");
      e2 = new Engine({ stateFile: path.join(dir, "state-nfsd.json") });
    });

    it("writes a drop-in nfsconf reads as vers3=n, udp=n, and restarts nfsd once", async () => {
      const r = await e2.up(server({ threads: 16 }));
      expect(r.errors).toEqual([]);
      expect([get("vers3"), get("udp"), get("vers4.2"), get("threads")]).toEqual(["n", "n", "y", "16"]);
      expect(count()).toBe(1);
      expect((await e2.up(server({ threads: 16 }))).changes).toEqual([]);
      expect(count()).toBe(1);
    });

    it("drift: vers3 switched back on by hand is reported after refresh", async () => {
      fs.writeFileSync(conf, fs.readFileSync(conf, "utf8").replace("vers3=n", "vers3=y"));
      const p = await e2.preview(server({ threads: 16 }), { refresh: true });
      expect(p.changes.find((s) => s.op === "update")?.diffs).toContain("observed.content");
      await e2.up(server({ threads: 16 }));
      expect(get("vers3")).toBe("n");
      expect(count()).toBe(2);
      await e2.destroy();
      expect(fs.existsSync(conf)).toBe(false);
    });

    it("the nfsconf check refuses a malformed file (nfsconf itself exits 0 on it)", async () => {
      const host = new LocalHost();
      const bad = await host.run(["sh", "-c", NFSCONF_CHECK, "sh"], { stdin: "[nfsd\nvers3 n\n", check: false });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/config error at .*line not empty and not an assignment/);
      const good = await host.run(["sh", "-c", NFSCONF_CHECK, "sh"], { stdin: "[nfsd]\nvers3=n\n", check: false });
      expect(good.code).toBe(0);
    });
  });
});
