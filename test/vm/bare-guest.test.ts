/**
 * VM lane, bare image, through the REAL Pulumi engine: a minimal Debian guest without NFS, SMB
 * or ZFS packages. `pulumi up` of test/vm/projects/bare-guest installs them (HostPackages,
 * apt-get) from a local package repository this test serves to the guest (no internet: the
 * guest's sources.list points only at it), enables and starts the services (HostService), and
 * the shares work end to end. A service stopped by hand is drift in `preview --refresh`, repaired
 * by `up`. The NFS mount's health check notices a dropped share within one period and brings it
 * back once the server is there again, without anyone running kvmshare.
 *
 * The repository: `apt-get install --print-uris` against the bare image's own dpkg status
 * (saved by the image build) says which .debs the guest lacks; `apt-get download` fetches them
 * on this machine, `dpkg-scanpackages` indexes them, and a small HTTP server on 127.0.0.1 serves
 * them to the guest as 10.0.2.2 (QEMU user networking). Cached next to the images.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { LocalHost } from "../../core/connection";
import { RealEngine } from "../harness/realEngine";
import { requirePrograms } from "../requirePrograms";
import { cacheRoot, GuestImage, releaseAptOptions } from "./image";
import { freePort } from "../fixtures/process";
import { describeVm, scenario, useGuest } from "./lane";

const PROJECT = path.join(__dirname, "projects/bare-guest");
const NEEDED = ["nfs-kernel-server", "nfs-common", "cifs-utils", "samba"];
const PASSWORD = `Bare-${crypto.randomBytes(12).toString("base64url")}`;
const PERIOD = 10;
const local = new LocalHost();

/** The .debs the bare image lacks for NEEDED, downloaded and indexed once (cached by content). */
async function buildRepo(image: GuestImage, log: (l: string) => void): Promise<string> {
  const status = path.join(image.dir, "dpkg-status");
  if (!fs.existsSync(status)) throw new Error(`VM lane: ${status} is missing; rebuild the bare image (delete ${image.dir})`);
  // The image's release's index (trixie: the lane's private one), with the image's package database.
  const apt = await releaseAptOptions(image.release);
  const uris = await local.run(
    ["apt-get", ...apt, "-o", `Dir::State::status=${status}`, "-o", "Debug::NoLocking=1", "install", "--print-uris", "-qq", "-y", "--no-install-recommends", ...NEEDED],
    { timeoutMs: 120_000 },
  );
  const files = uris.stdout.split("\n").map((l) => l.split(" ")[1]).filter((f): f is string => !!f && f.endsWith(".deb")).sort();
  if (!files.length) throw new Error(`VM lane: apt-get --print-uris found nothing to install for ${NEEDED.join(", ")}:\n${uris.stderr}`);
  const key = crypto.createHash("sha256").update(files.join("\n")).digest("hex").slice(0, 16);
  const repo = path.join(cacheRoot(), `bare-repo-${key}`);
  if (fs.existsSync(path.join(repo, "Packages"))) return repo;
  const tmp = fs.mkdtempSync(path.join(cacheRoot(), ".bare-repo-"));
  const t0 = Date.now();
  // name_version_arch.deb -> name=version (the epoch is %3a in file names).
  const specs = files.map((f) => {
    const [name, version] = f.replace(/\.deb$/, "").split("_");
    return `${name}=${decodeURIComponent(version)}`;
  });
  log(`downloading ${specs.length} packages for the bare guest's local repository`);
  try {
    await local.run(["sh", "-c", 'cd "$1" && shift && exec apt-get "$@"', "sh", tmp, ...apt, "download", "-qq", ...specs], { timeoutMs: 900_000 });
    await local.run(["sh", "-c", 'cd "$1" && dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null', "sh", tmp], { timeoutMs: 300_000 });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`VM lane: could not build the local package repository (are Debian's mirrors reachable from this machine?):\n${(e as Error).message}`);
  }
  fs.rmSync(repo, { recursive: true, force: true });
  fs.renameSync(tmp, repo);
  log(`local repository: ${specs.length} packages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return repo;
}

/** A static file server for the repository (GET only, no directory listing, no `..`). */
function serve(dir: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? "/").split("?")[0]).replace(/^\/+/, "");
    const file = path.join(dir, rel);
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405).end();
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return void res.writeHead(404).end();
    res.writeHead(200, { "content-length": fs.statSync(file).size });
    if (req.method === "HEAD") return void res.end();
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", () => resolve(server)));
}

describeVm("VM lane: a bare Debian guest made a working NFS and SMB server and client by pulumi up", () => {
  let repoServer: http.Server | undefined;
  let engine: RealEngine | undefined;
  const lane = useGuest(
    "bare-guest.test.ts",
    "bare",
    () => ({}),
    async () => {
      await new Promise<void>((r) => (repoServer ? repoServer.close(() => r()) : r()));
      engine?.remove();
    },
  );
  const e = () => {
    if (!engine) throw new Error("no engine (the first scenario did not run)");
    return engine;
  };
  const active = async (unit: string) => (await lane.guest.host.run(["systemctl", "is-active", unit], { check: false })).stdout.trim();
  const enabled = async (unit: string) => (await lane.guest.host.run(["systemctl", "is-enabled", unit], { check: false })).stdout.trim();
  const metric = async () => (await lane.guest.host.readFile("/var/lib/prometheus/node-exporter/kvmshare_mount_mnt-nfs.prom")) ?? "";
  const journal = async (since: string) =>
    (await lane.guest.host.run(["journalctl", "--no-pager", "-o", "cat", "-t", "kvmshare-mount-health", "--since", since], { check: false })).stdout;
  const waitFor = async (what: string, limitMs: number, test: () => Promise<boolean>): Promise<number> => {
    const t0 = Date.now();
    while (!(await test())) {
      if (Date.now() - t0 > limitMs) throw new Error(`${what}: not within ${limitMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return (Date.now() - t0) / 1000;
  };

  scenario(lane, "the bare guest has none of the packages; its apt sees only the local repository", async () => {
    const { host } = lane.guest;
    const repo = await buildRepo(lane.image, lane.log);
    const port = await freePort();
    repoServer = await serve(repo, port);
    const have = await host.run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\\n", ...NEEDED], { check: false });
    expect(have.stdout).not.toMatch(/ ii/);
    await host.run(["sh", "-c", 'rm -rf /etc/apt/sources.list.d/* /var/lib/apt/lists/* && printf "deb [trusted=yes] http://10.0.2.2:%s/ ./\\n" "$1" > /etc/apt/sources.list', "sh", String(port)]);
    await host.run(["sh", "-c", "mkdir -p /srv/share /srv/smb && echo alive > /srv/share/.kvmshare-alive && chown games /srv/smb"]);
    engine = new RealEngine({
      workDir: PROJECT,
      stack: `bare${process.pid}`,
      config: {
        sshPort: String(lane.guest.connection.port),
        hostKeySha256: lane.guest.connection.hostKeySha256 as string,
        privateKey: { secret: lane.guest.connection.privateKey as string },
        smbPassword: { secret: PASSWORD },
        healthPeriodSec: String(PERIOD),
      },
    });
  }, 1_200_000);

  scenario(lane, "preview of the bare guest passes and lists the packages and services it will set up", async () => {
    const p = await e().preview();
    expect(p.errors).toEqual([]);
    const names = p.changes.map((c) => `${c.op} ${c.name}`);
    expect(names).toEqual(
      expect.arrayContaining(["create nfsd-host-packages", "create smb-host-packages", "create nfsmnt-host-packages", "create smbmnt-host-packages", "create nfsd-nfsKernelServer-service", "create smb-samba-service"]),
    );
  }, 600_000);

  scenario(lane, "up installs the packages from the local repository, starts the services, and the shares work both ways", async () => {
    const { host } = lane.guest;
    const t0 = Date.now();
    const up = await e().up();
    const upSeconds = (Date.now() - t0) / 1000;
    expect(up.errors).toEqual([]);
    lane.times.push({ label: "bare guest -> working NFS + SMB shares (pulumi up)", seconds: upSeconds, note: `${up.changes.length} host resources` });
    expect(await host.readFile("/var/lib/kvmshare/packages/nfsd-host.list")).toContain("nfs-kernel-server");
    for (const unit of ["nfs-server", "smbd"]) {
      expect(await active(unit)).toBe("active");
      expect(await enabled(unit)).toBe("enabled");
    }
    const apt = await host.run(["sh", "-c", "grep -h 'Commandline: apt-get' /var/log/apt/history.log"], { check: false });
    expect(apt.stdout).toMatch(/--no-install-recommends/);
    // NFS: the export's directory on one side, the mount on the other.
    await host.run(["sh", "-c", "echo from-export > /srv/share/a.txt"]);
    expect((await host.run(["cat", "/mnt/nfs/a.txt"])).stdout).toBe("from-export\n");
    await host.run(["sh", "-c", "echo from-mount > /mnt/nfs/b.txt"]);
    expect((await host.run(["cat", "/srv/share/b.txt"])).stdout).toBe("from-mount\n");
    // SMB: the same through smbd and the cifs mount (a 3.1.1 session, sealed).
    await host.run(["sh", "-c", "echo via-smb > /mnt/smb/c.txt"]);
    expect((await host.run(["cat", "/srv/smb/c.txt"])).stdout).toBe("via-smb\n");
    expect((await host.run(["findmnt", "-n", "-o", "FSTYPE,OPTIONS", "/mnt/smb"])).stdout).toMatch(/^cifs .*vers=3/);
    // The secret reached the guest's passdb, never the engine's output or the stored state.
    expect(e().lastOutput).not.toContain(PASSWORD);
    for (const f of e().stateFiles()) expect(fs.readFileSync(f, "utf8")).not.toContain(PASSWORD);
    lane.log(`bare guest to working shares: ${upSeconds.toFixed(1)} s`);
  }, 2_400_000);

  scenario(lane, "preview --refresh --expect-no-changes passes and a second up changes nothing", async () => {
    const p = await e().preview({ refresh: true, expectNoChanges: true });
    expect(p.errors).toEqual([]);
    const r = await e().up();
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
  }, 600_000);

  scenario(lane, "nfs-server and smbd stopped (and smbd disabled) by hand are drift in preview --refresh; up starts them again", async () => {
    const { host } = lane.guest;
    await host.run(["sh", "-c", "systemctl stop kvmshare-mount-health-mnt-nfs.timer; umount -l /mnt/nfs /mnt/smb; systemctl stop smbd nfs-server; systemctl disable smbd"]);
    const p = await e().preview({ refresh: true, expectNoChanges: true });
    expect(p.errors.join("\n")).toMatch(/no changes were expected/);
    const drifted = p.changes.filter((c) => c.op === "update").map((c) => c.name);
    expect(drifted).toEqual(expect.arrayContaining(["nfsd-nfsKernelServer-service", "smb-samba-service", "nfsmnt-health"]));
    // The detailed diff names the field that differs on the host.
    expect(e().lastOutput).toMatch(/~ active\s*: "active" => "inactive"/);
    const t0 = Date.now();
    const up = await e().up({ refresh: true });
    expect(up.errors).toEqual([]);
    lane.times.push({ label: "repair: services started again by up --refresh", seconds: (Date.now() - t0) / 1000 });
    for (const unit of ["nfs-server", "smbd", "kvmshare-mount-health-mnt-nfs.timer"]) expect(await active(unit)).toBe("active");
    expect(await enabled("smbd")).toBe("enabled");
    // The mounts come back through their units (automount or the health check).
    expect((await host.run(["cat", "/mnt/nfs/a.txt"], { timeoutMs: 60_000 })).stdout).toBe("from-export\n");
    expect((await host.run(["cat", "/mnt/smb/c.txt"], { timeoutMs: 60_000 })).stdout).toBe("via-smb\n");
    expect((await e().preview({ refresh: true, expectNoChanges: true })).errors).toEqual([]);
  }, 900_000);

  scenario(lane, "health check: the NFS server stopped -> the guest reports the share down within one period; started -> the share is back by itself", async () => {
    const { host } = lane.guest;
    // A fresh check (after this scenario started) that found the share up.
    const start = Number((await host.run(["date", "+%s"])).stdout.trim());
    const since = (await host.run(["date", "-d", `@${start}`, "+%Y-%m-%d %H:%M:%S"])).stdout.trim();
    const checkedAfter = (text: string, t: number) => Number(/kvmshare_mount_last_check_timestamp_seconds\{[^}]*\} (\d+)/.exec(text)?.[1] ?? 0) >= t;
    await waitFor("a health check that finds the share up", 3 * PERIOD * 1000, async () => {
      const m = await metric();
      return checkedAfter(m, start) && /kvmshare_mount_up\{[^}]*\} 1/.test(m);
    });
    await host.run(["systemctl", "stop", "nfs-server"]);
    // "Within one period": the next timer run after the stop, plus the stat timeout (3 s) and TCG slack.
    const down = await waitFor("the share reported down", (PERIOD + 3 + 10) * 1000, async () => /kvmshare_mount_up\{[^}]*\} 0/.test(await metric()));
    const j = await journal(since);
    expect(j).toMatch(/\/mnt\/nfs \(mnt-nfs\.mount\) is down: (stat -f did not answer|marker|not mounted)/);
    lane.times.push({ label: "health check: share down detected", seconds: down, note: `period ${PERIOD} s` });
    await host.run(["systemctl", "start", "nfs-server"]);
    const back = await waitFor("the share back", 6 * PERIOD * 1000, async () => /kvmshare_mount_up\{[^}]*\} 1/.test(await metric()));
    lane.times.push({ label: "health check: share back after the server started", seconds: back });
    expect(await journal(since)).toMatch(/\/mnt\/nfs \(mnt-nfs\.mount\) is back/);
    expect((await metric())).toMatch(/kvmshare_mount_remounts_total\{[^}]*\} [1-9]/);
    expect((await host.run(["cat", "/mnt/nfs/a.txt"], { timeoutMs: 30_000 })).stdout).toBe("from-export\n");
    lane.log(`health check: down after ${down.toFixed(1)} s, back ${back.toFixed(1)} s after the server started (period ${PERIOD} s)`);
  }, 600_000);

  scenario(lane, "a package removed by hand is drift; destroy keeps the packages (removePackages: false)", async () => {
    const { host } = lane.guest;
    await host.run(["sh", "-c", "umount -l /mnt/smb; DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq cifs-utils"], { timeoutMs: 300_000 });
    const p = await e().preview({ refresh: true });
    expect(p.changes.filter((c) => c.op === "update").map((c) => c.name)).toContain("smbmnt-host-packages");
    expect(e().lastOutput).toMatch(/~ missing\s*: \[/);
    const d = await e().destroy();
    expect(d.errors).toEqual([]);
    const have = await host.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "nfs-kernel-server"], { check: false });
    expect(have.stdout).toMatch(/^ii/);
    expect(await host.readFile("/var/lib/kvmshare/packages/nfsd-host.list")).toBeUndefined();
    expect(await host.readFile("/etc/systemd/system/kvmshare-mount-health-mnt-nfs.timer")).toBeUndefined();
  }, 900_000);
}, ["pulumi", "dpkg-scanpackages"]);
