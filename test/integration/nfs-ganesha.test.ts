/**
 * NfsExport, ganesha backend: a real `ganesha.nfsd` on a high port serves the rendered EXPORT
 * blocks (from a sandbox `%dir`), the libnfs client reads through it from this namespace and
 * from a network namespace with its own address (veth pair made here), and reloads are SIGHUPs
 * to the daemon this test started. libnfs fails NFSv4 writes of 4 KiB and more (a client bug),
 * so writes here stay below that and their content is checked on the server side.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Ganesha, startGanesha } from "../fixtures/ganesha";
import { createHostLink, deleteHostLink, HostLink } from "../fixtures/netns";
import { NfsExport } from "../../components/nfs";
import { Engine } from "../harness/engine";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms([...PROGRAMS.ganesha, "ip"], { root: true });

// Real daemons on a shared 2-core machine: allow for load.
jest.setTimeout(60_000);

const PORT = 21000 + (process.pid % 1000);
const NS = `ks-exp-${process.pid}`;
const SUBNET = `10.${200 + (process.pid % 50)}.${process.pid % 250}`;
const HOST_IP = `${SUBNET}.1`;
const GUEST_IP = `${SUBNET}.2`;
const VETH = `kse${process.pid % 100000}`;

function sh(argv: string[], input?: string) {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: "utf8", timeout: 30_000 });
  return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
/** libnfs URL of a file on the daemon. */
const url = (server: string, p: string) => `nfs://${server}${p}?version=4&nfsport=${PORT}`;
const inGuest = (argv: string[]) => sh(["ip", "netns", "exec", NS, ...argv]);
const sha256 = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

describe("NfsExport on NFS-Ganesha, read with the libnfs client", () => {
  let dir: string;
  let engine: Engine;
  let daemon: Ganesha | undefined;
  let link: HostLink | undefined;
  let exportsDir: string;
  let mainConf: string;
  let pub: string;
  let guest: string;
  let reloadCommand: string[];

  const program = (pubClients: string[], over: Record<string, unknown> = {}) => () => {
    new NfsExport("pub", {
      backend: "ganesha",
      path: pub,
      clients: pubClients,
      exportsDir,
      reloadCommand,
      ganesha: { configPath: mainConf, pseudo: "/pub", exportId: 101 },
      ...over,
    });
    new NfsExport("guest", {
      backend: "ganesha",
      path: guest,
      clients: [GUEST_IP],
      access: "rw",
      squash: "all_squash",
      anonuid: 0,
      acknowledgeNoRootSquash: true,
      exportsDir,
      reloadCommand,
      ganesha: { configPath: mainConf, pseudo: "/guest", exportId: 102 },
    });
  };

  /** Wait until a reload (SIGHUP) has been processed. */
  const waitForReload = (before: number) => daemon!.waitForReload(before);
  const reloadsSeen = () => daemon!.reloadsSeen();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-exports-ganesha-"));
    exportsDir = path.join(dir, "ganesha.d");
    pub = path.join(dir, "pub");
    guest = path.join(dir, "guest");
    for (const d of [exportsDir, pub, guest]) fs.mkdirSync(d);
    fs.chmodSync(guest, 0o777);
    fs.writeFileSync(path.join(pub, "hello.txt"), "hello from ganesha\n");
    daemon = await startGanesha(dir, { port: PORT, exportsDir });
    ({ config: mainConf, reloadCommand } = daemon);
    // A guest with its own address: a veth pair into a namespace made for this test.
    link = createHostLink({ ns: NS, hostDev: `${VETH}a`, nsDev: `${VETH}b`, hostIp: HOST_IP, nsIp: GUEST_IP }, 24);
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
  }, 60_000);

  afterAll(async () => {
    try {
      await daemon?.stop();
    } finally {
      deleteHostLink(link);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("ganesha serves the rendered export: the allowed client lists and reads the file", async () => {
    const before = reloadsSeen();
    const r = await engine.up(program(["127.0.0.1"]));
    expect(r.errors).toEqual([]);
    expect(fs.readFileSync(path.join(exportsDir, "pub.conf"), "utf8")).toMatch(/Export_Id = 101;[\s\S]*Pseudo = "\/pub";[\s\S]*Protocols = 4;[\s\S]*Clients = 127\.0\.0\.1;\n\t\tAccess_Type = RO;\n\t\tSquash = root_squash;/);
    await waitForReload(before);
    const ls = sh(["nfs-ls", url("127.0.0.1", "/pub")]);
    expect(ls.stderr).toBe("");
    expect(ls.stdout).toMatch(/hello\.txt/);
    expect(sh(["nfs-cat", url("127.0.0.1", "/pub/hello.txt")]).stdout).toBe("hello from ganesha\n");
  });

  it("a client outside the list is refused, while the same client reads an export that lists it", () => {
    const refused = inGuest(["nfs-cat", url(HOST_IP, "/pub/hello.txt")]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain("hello from ganesha");
    // Same client, same server, same network path: only the client list differs.
    fs.writeFileSync(path.join(guest, "seen.txt"), "guest export\n");
    const allowed = inGuest(["nfs-cat", url(HOST_IP, "/guest/seen.txt")]);
    expect(allowed.stderr).toBe("");
    expect(allowed.stdout).toBe("guest export\n");
  });

  it("a read-write export takes a (small) write from its client; a read-only one refuses it", () => {
    const src = path.join(dir, "small.txt");
    const content = "x".repeat(1000) + "\n"; // < 4 KiB: libnfs's NFSv4 write bug starts at 4 KiB
    fs.writeFileSync(src, content);
    const put = inGuest(["nfs-cp", src, url(HOST_IP, "/guest/from-guest.txt")]);
    expect(put.code).toBe(0);
    expect(fs.readFileSync(path.join(guest, "from-guest.txt"), "utf8")).toBe(content);
    // all_squash with anonuid 0 acknowledged: the file belongs to uid 0 on the server.
    expect(fs.statSync(path.join(guest, "from-guest.txt")).uid).toBe(0);
    const ro = sh(["nfs-cp", src, url("127.0.0.1", "/pub/nope.txt")]);
    expect(ro.code).not.toBe(0);
    expect(fs.existsSync(path.join(pub, "nope.txt"))).toBe(false);
  });

  it("adding the client is checked, written and reloaded (SIGHUP), and the client then gets in", async () => {
    const before = reloadsSeen();
    const r = await engine.up(program(["127.0.0.1", GUEST_IP]));
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.name)).toEqual(["pub-export"]);
    await waitForReload(before);
    const got = inGuest(["nfs-cat", url(HOST_IP, "/pub/hello.txt")]);
    expect(got.stdout).toBe("hello from ganesha\n");
    const same = await engine.up(program(["127.0.0.1", GUEST_IP]));
    expect(same.changes).toEqual([]);
  });

  it("ganesha's own parser refuses a bad EXPORT block, and the live file stays as it was", async () => {
    const file = path.join(exportsDir, "pub.conf");
    const before = fs.readFileSync(file, "utf8");
    const r = await engine.up(program(["127.0.0.1", GUEST_IP], { ganesha: { configPath: mainConf, pseudo: "/pub", exportId: 101, extraParameters: { Bogus_Param: "1" } } }));
    expect(r.errors.join("\n")).toMatch(/ganesha\.nfsd refused the new .*pub\.conf[\s\S]*Unknown parameter \(Bogus_Param\)/);
    expect(fs.readFileSync(file, "utf8")).toBe(before);
    expect(fs.readdirSync(exportsDir).sort()).toEqual(["guest.conf", "pub.conf"]);
    expect(sh(["nfs-cat", url("127.0.0.1", "/pub/hello.txt")]).stdout).toBe("hello from ganesha\n");
  }, 60_000);

  it("an export id or pseudo path already used by a hand-made block is reported at preview", async () => {
    const other = path.join(exportsDir, "handmade.conf");
    fs.writeFileSync(other, `EXPORT { Export_Id = 101; Path = "${pub}"; Pseudo = "/pub"; FSAL { Name = VFS; } }\n`);
    try {
      const p = await engine.preview(program(["127.0.0.1", GUEST_IP]));
      const all = p.errors.join("\n");
      expect(all).toMatch(/ganesha\.exportId: is already used by .*handmade\.conf; choose another id \(got 101\)/);
      expect(all).toMatch(/ganesha\.pseudo: is already the pseudo path of .*handmade\.conf/);
    } finally {
      fs.rmSync(other);
    }
  });

  it("a main config that does not include the exports directory is reported with the line to add", async () => {
    const bare = path.join(dir, "bare.conf");
    fs.writeFileSync(bare, "NFS_CORE_PARAM { Protocols = 4; }\n");
    const p = await engine.preview(() => {
      new NfsExport("lonely", { backend: "ganesha", path: pub, clients: ["127.0.0.1"], exportsDir, reloadCommand, ganesha: { configPath: bare, exportId: 300, pseudo: "/lonely" } });
    });
    expect(p.errors.join("\n")).toContain(`ganesha.configPath: does not include the exports directory; add the line: %dir "${exportsDir}"`);
  });

  it("drift: an EXPORT block edited by hand is reported after refresh, and up puts it back", async () => {
    const file = path.join(exportsDir, "pub.conf");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("Access_Type = RO;", "Access_Type = RW;"));
    const p = await engine.preview(program(["127.0.0.1", GUEST_IP]), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.find((s) => s.op === "update" && s.name === "pub-export")?.diffs).toContain("observed.content");
    await engine.up(program(["127.0.0.1", GUEST_IP]));
    expect(fs.readFileSync(file, "utf8")).not.toContain("Access_Type = RW;");
  });

  it("measures apply + reload time and a libnfs read through the export", async () => {
    const big = path.join(pub, "big.bin");
    const mib = 64;
    fs.writeFileSync(big, crypto.randomBytes(mib * 1024 * 1024));
    const t0 = process.hrtime.bigint();
    const cp = sh(["nfs-cp", url("127.0.0.1", "/pub/big.bin"), path.join(dir, "big.copy")]);
    const t1 = process.hrtime.bigint();
    expect(cp.code).toBe(0);
    expect(sha256(path.join(dir, "big.copy"))).toBe(sha256(big));
    // An export change: ganesha parser check + staged write + SIGHUP, then until the client sees it.
    const before = reloadsSeen();
    const a0 = process.hrtime.bigint();
    const r = await engine.up(program(["127.0.0.1"]));
    const a1 = process.hrtime.bigint();
    expect(r.errors).toEqual([]);
    await waitForReload(before);
    let seen = false;
    while (!seen && process.hrtime.bigint() - a1 < 10_000_000_000n) {
      seen = inGuest(["nfs-cat", url(HOST_IP, "/pub/hello.txt")]).code !== 0;
      if (!seen) await new Promise((res) => setTimeout(res, 50));
    }
    const a2 = process.hrtime.bigint();
    expect(seen).toBe(true);
    const n0 = process.hrtime.bigint();
    await engine.up(program(["127.0.0.1"]));
    const n1 = process.hrtime.bigint();
    const ms = (d: bigint) => (Number(d) / 1e6).toFixed(0);
    console.log(
      `ganesha bench: libnfs NFSv4 read ${mib} MiB over loopback ${(mib / (Number(t1 - t0) / 1e9)).toFixed(0)} MiB/s; ` +
        `export change apply (ganesha parser check + write + SIGHUP) ${ms(a1 - a0)} ms, client sees it after ${ms(a2 - a0)} ms; no-change up ${ms(n1 - n0)} ms`,
    );
    fs.rmSync(big);
  }, 60_000);

  it("destroy removes the EXPORT blocks and reloads: the files are no longer served", async () => {
    const before = reloadsSeen();
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.readdirSync(exportsDir)).toEqual([]);
    await waitForReload(before);
    await new Promise((r) => setTimeout(r, 500));
    const gone = sh(["nfs-cat", url("127.0.0.1", "/pub/hello.txt")]);
    expect(gone.stdout).not.toContain("hello from ganesha");
    // The pub data is still there: removing an export never removes data.
    expect(fs.readFileSync(path.join(pub, "hello.txt"), "utf8")).toBe("hello from ganesha\n");
  });
});
