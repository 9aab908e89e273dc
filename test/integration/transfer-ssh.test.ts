/**
 * Copies over SSH to a real sshd running in a network namespace this test creates (veth pair,
 * own keys and config, killed by PID, namespace deleted afterwards).
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { atFirstProgress, fillUp, randomFile as randomFileIn } from "../fixtures/files";
import { buildCli, BuiltCli } from "../fixtures/buildCli";
import { killCopyAt } from "../fixtures/copyKill";
import { NetnsSshd, startNetnsSshd } from "../fixtures/sshd";
import { SshConnectionSpec, SshHost } from "../../core/connection";
import { kind as transferKind, ParallelTransferSpec } from "../../components/transfer/parallelTransferKind";
import { copy } from "../../transfer/engine";
import { EXIT_CODES, TransferError } from "../../transfer/errors";
import { manifestPath, parseManifest, partPath } from "../../transfer/manifest";
import { Destination, PartFile } from "../../transfer/destination";
import { SftpDestination } from "../../transfer/sftp";
import { sshStreams } from "../../transfer/plan";
import { OpenSshClient } from "../../core/openssh";
import { OpenSshDestination } from "../../transfer/sshpipe";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms([...PROGRAMS.sshd, "ip", "nsenter", "ssh-keyscan"], { root: true });

/** SFTP, except that the first write at `badOffset` flips a byte on its way to the host. */
function corrupting(inner: Destination, badOffset: number): Destination & { corrupted: number } {
  const d = Object.create(inner) as Destination & { corrupted: number };
  d.corrupted = 0;
  d.openPart = async (p: string, size: number, fresh: boolean): Promise<PartFile> => {
    const part = await inner.openPart(p, size, fresh);
    return {
      ...part,
      write: (buf, length, position, stream) => {
        if (d.corrupted === 0 && position === badOffset) {
          d.corrupted++;
          const bad = Buffer.from(buf.subarray(0, length));
          bad[3] ^= 0xff;
          return part.write(bad, length, position, stream);
        }
        return part.write(buf, length, position, stream);
      },
    };
  };
  return d;
}

jest.setTimeout(30_000); // real copies on a shared 2-core machine
const K = 1024;
let sshd: NetnsSshd;
let dir: string;
let cli: BuiltCli;
let conn: SshConnectionSpec;

const randomFile = (name: string, size: number) => randomFileIn(dir, name, size);
/** `argv` in sshd's mount namespace (`ip netns exec` gave it its own). */
const inSshd = (...argv: string[]) => execFileSync("nsenter", ["--target", String(sshd.pid), "--mount", "--", ...argv]);
/** A small tmpfs at `dir/name`, mounted where sshd sees it (unmount with `inSshd("umount", mnt)`). */
function remoteTmpfs(name: string, size: string): string {
  const mnt = path.join(dir, name);
  fs.mkdirSync(mnt);
  inSshd("mount", "-t", "tmpfs", "-o", `size=${size}`, `kstransfer-${name}`, mnt);
  return mnt;
}
const same = (a: string, b: string) => fs.readFileSync(a).equals(fs.readFileSync(b));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cli.argv[0], [...cli.argv.slice(1), ...args], { env: { ...cli.env, HOME: dir } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  sshd = await startNetnsSshd();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-transfer-ssh-"));
  fs.mkdirSync(path.join(dir, "remote"));
  cli = buildCli();
  conn = { kind: "ssh", host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, hostKeySha256: sshd.hostKeySha256 };
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  cli?.remove();
});

describe("kvmshare copy over SSH (sshd in a test network namespace)", () => {
  it("sshd is only reachable through the namespace's veth address", () => {
    expect(sshd.host).toMatch(/^10\.\d+\.\d+\.2$/);
    expect(fs.existsSync(`/run/netns/${sshd.namespace}`)).toBe(true);
  });

  const sizes = [0, 1, 64 * K - 1, 64 * K + 1, 9 * 64 * K + 17];
  it.each((["openssh", "sftp"] as const).flatMap((t) => sizes.map((size) => [t, size] as const)))("%s transport: a %i-byte file over 4 streams arrives byte-identical", async (transport, size) => {
    const src = randomFile(`s-${transport}-${size}`, size);
    const dst = path.join(dir, "remote", `s-${transport}-${size}`);
    const notices: string[] = [];
    const r = await copy(src, { kind: "ssh", connection: conn, path: dst, transport }, { chunkSize: 64 * K, streams: 4, onEvent: (e) => e.type === "notice" && notices.push(e.message) });
    expect(same(src, dst)).toBe(true);
    expect(r).toMatchObject({ bytes: size, streams: 4, verify: true });
    expect(fs.existsSync(partPath(dst))).toBe(false);
    expect(notices).toEqual([]);
  });

  it("the OpenSSH transport: ssh -s sftp per stream plus a hashing ssh; the key file and known_hosts are removed afterwards", async () => {
    const tmpBefore = new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith("kvmshare-ssh-")));
    const d = await OpenSshDestination.open(conn, { streams: 2 });
    let ours: string[] = [];
    try {
      ours = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith("kvmshare-ssh-") && !tmpBefore.has(n));
      expect(ours).toHaveLength(1);
      expect(fs.statSync(path.join(os.tmpdir(), ours[0])).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(os.tmpdir(), ours[0], "id")).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(path.join(os.tmpdir(), ours[0], "known_hosts"), "utf8")).toMatch(/^10\.\d+\.\d+\.2 ssh-ed25519 AAAA\S+\n$/);
      // the ssh processes are children of this process
      const kids = execFileSync("ps", ["-o", "args=", "--ppid", String(process.pid)], { encoding: "utf8" });
      expect(kids.match(/^ssh .*-o StrictHostKeyChecking=yes .* -s 10\.\S+ sftp$/gm)).toHaveLength(2);
      expect(kids.match(/^ssh .*-o StrictHostKeyChecking=yes .* -- sh -c /gm)).toHaveLength(1);
      const dst = path.join(dir, "remote", "direct.part");
      const pf = await d.openPart(dst, 10, true);
      await Promise.all([pf.write(Buffer.from("hello"), 5, 0, 1), pf.write(Buffer.from("world"), 5, 5, 0)]);
      expect(await d.hashRange(dst, 0, 10, 1, "sha256")).toBe(crypto.createHash("sha256").update("helloworld").digest("hex"));
      await pf.write(Buffer.from("ABC"), 2, 3, 0);
      expect(fs.readFileSync(dst, "utf8")).toBe("helABworld");
      await pf.close();
    } finally {
      await d.close();
    }
    expect(fs.existsSync(path.join(os.tmpdir(), ours[0]))).toBe(false);
  });

  it("the OpenSSH transport pins the host key: no scanned key with the pinned fingerprint, or known_hosts naming another key, and ssh runs nothing", async () => {
    // only a scanned key whose fingerprint equals the pin goes into known_hosts
    const err = await OpenSshClient.prepare({ ...conn, hostKeySha256: "SHA256:" + "B".repeat(43) }).catch((e) => e);
    expect(String(err.message)).toMatch(/ssh-keyscan found no host key with fingerprint SHA256:B{43}/);
    const c = await OpenSshClient.prepare(conn);
    try {
      // a known_hosts entry under another key: ssh refuses (exit 255), nothing runs
      const kh = String(c.argv(["true"]).find((a) => a.startsWith("UserKnownHostsFile="))).slice("UserKnownHostsFile=".length);
      const other = execFileSync("ssh-keygen", ["-y", "-f", sshd.identityFile], { encoding: "utf8" }).trim().split(" ");
      fs.writeFileSync(kh, `${sshd.host} ${other[0]} ${other[1]}\n`);
      const r = spawnSync(c.argv(["echo", "ran"])[0], c.argv(["echo", "ran"]).slice(1), { encoding: "utf8" });
      expect(r.status).toBe(255);
      expect(r.stdout).toBe("");
    } finally {
      c.close();
    }
  });

  it("the OpenSSH transport reuses the host key ssh2 checked against the pin (no ssh-keyscan round), and only that key", async () => {
    const host = await SshHost.connect(conn);
    const key = host.hostKey!;
    await host.close();
    expect(key.subarray(4, 4 + key.readUInt32BE(0)).toString()).toBe("ssh-ed25519");
    // port 1: nothing listens, so ssh-keyscan would find nothing; the checked key is enough
    const c = await OpenSshClient.prepare({ ...conn, port: 1 }, { hostKey: key });
    try {
      const kh = String(c.argv(["true"]).find((a) => a.startsWith("UserKnownHostsFile="))).slice("UserKnownHostsFile=".length);
      expect(fs.readFileSync(kh, "utf8")).toBe(`[${sshd.host}]:1 ssh-ed25519 ${key.toString("base64")}\n`);
    } finally {
      c.close();
    }
    // a key that is not the pinned one is ignored: back to ssh-keyscan, which finds nothing on port 1
    const other = Buffer.concat([key.subarray(0, key.length - 1), Buffer.from([key[key.length - 1] ^ 1])]);
    const err = await OpenSshClient.prepare({ ...conn, port: 1 }, { hostKey: other }).catch((e) => e);
    expect(String(err.message)).toMatch(/ssh-keyscan got no answer/);
  });

  it("without --streams or --cipher a probe of both ends chooses them (one kernel here: the ends share its cores)", async () => {
    const src = randomFile("probe.bin", 4 * 1024 * K);
    const dst = path.join(dir, "remote", "probe.bin");
    const r = await copy(src, { kind: "ssh", connection: conn, path: dst }, { chunkSize: 256 * K });
    expect(same(src, dst)).toBe(true);
    expect(r.transport).toBe("openssh");
    expect(r.probe).toMatchObject({ localCores: os.availableParallelism(), remoteCores: os.availableParallelism(), sameKernel: true });
    expect(r.probe!.rttMs).toBeLessThan(1000);
    expect(r.streams).toBe(sshStreams(r.probe!, 16));
    // given both, nothing is probed
    const fixed = await copy(src, { kind: "ssh", connection: { ...conn, ciphers: ["aes128-gcm@openssh.com"] }, path: dst }, { chunkSize: 256 * K, streams: 3 });
    expect(fixed.probe).toBeUndefined();
    expect(fixed.streams).toBe(3);
  });

  it("streams share fewer connections when asked, with a chosen cipher", async () => {
    const src = randomFile("c.bin", 20 * 1024 * K);
    const dst = path.join(dir, "remote", "c.bin");
    await copy(src, { kind: "ssh", connection: { ...conn, ciphers: ["aes128-gcm@openssh.com"] }, path: dst, connections: 2 }, { streams: 4, chunkSize: 1024 * K });
    expect(same(src, dst)).toBe(true);
  });

  it("copies a directory tree", async () => {
    const root = path.join(dir, "tree");
    fs.mkdirSync(path.join(root, "sub"), { recursive: true });
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, "sub", `f${i}`), crypto.randomBytes(i * 100));
    fs.writeFileSync(path.join(root, "big"), crypto.randomBytes(9 * 1024 * K));
    const r = await copy(root, { kind: "ssh", connection: conn, path: path.join(dir, "remote", "tree") }, { chunkSize: 1024 * K, streams: 3 });
    expect(r.files).toBe(21);
    for (const f of ["big", ...Array.from({ length: 20 }, (_, i) => `sub/f${i}`)]) expect(same(path.join(root, f), path.join(dir, "remote/tree", f))).toBe(true);
  });

  it("an interrupted copy resumes, checking recorded chunks with the hash computed on the remote side", async () => {
    const src = randomFile("r.bin", 16 * 1024 * K);
    const dst = path.join(dir, "remote", "r.bin");
    const ac = new AbortController();
    const err = await copy(src, { kind: "ssh", connection: conn, path: dst }, {
      chunkSize: 256 * K,
      streams: 2,
      signal: ac.signal,
      onEvent: (e) => e.type === "progress" && e.doneBytes >= 8 * 1024 * K && ac.abort(),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TransferError);
    expect(err.code).toBe("INTERRUPTED");
    expect(fs.existsSync(dst)).toBe(false);
    expect(fs.existsSync(manifestPath(dst))).toBe(true);
    // damage one recorded chunk on the "remote" side
    const m = JSON.parse(fs.readFileSync(manifestPath(dst), "utf8"));
    const victim = Number(Object.keys(m.chunks)[0]);
    const fd = fs.openSync(partPath(dst), "r+");
    fs.writeSync(fd, Buffer.from("XX"), 0, 2, victim * 256 * K + 7);
    fs.closeSync(fd);
    const r = await copy(src, { kind: "ssh", connection: conn, path: dst }, { chunkSize: 256 * K, streams: 2, resume: true });
    expect(r.recopiedChunks).toBe(1);
    expect(r.reusedBytes).toBeGreaterThan(0);
    expect(r.copiedBytes).toBeLessThan(16 * 1024 * K);
    expect(same(src, dst)).toBe(true);
  });

  const transportsAndHashes = (["openssh", "sftp"] as const).flatMap((t) => (["xxh128", "sha256"] as const).map((h) => [t, h] as const));

  it.each(transportsAndHashes)("%s, %s: a chunk damaged on its way is caught by the remote hash and copied again", async (transport, hash) => {
    const src = randomFile(`flaky-${transport}-${hash}.bin`, 8 * 256 * K);
    const dst = path.join(dir, "remote", `flaky-${transport}-${hash}.bin`);
    const sftp: Destination = transport === "sftp" ? await SftpDestination.open(conn, { streams: 2 }) : await OpenSshDestination.open(conn, { streams: 2 });
    try {
      const d = corrupting(sftp, 5 * 256 * K);
      const notices: string[] = [];
      const r = await copy(src, { kind: "custom", destination: d, path: dst }, { chunkSize: 256 * K, streams: 2, hash, onEvent: (e) => e.type === "notice" && notices.push(e.message) });
      expect(r.hash).toBe(hash);
      expect(d.corrupted).toBe(1);
      expect(notices.join("\n")).toMatch(/chunk 5 failed verification; copying it again/);
      expect(same(src, dst)).toBe(true);
    } finally {
      await sftp.close();
    }
  });

  it.each(transportsAndHashes)("%s, %s: kill -9 mid-copy, a recorded chunk damaged on the host; --resume finds it, copies it again and the rest", async (transport, hash) => {
    const SIZE = 16 * 1024 * K;
    const src = randomFile(`k9-${transport}-${hash}.bin`, SIZE);
    const dst = path.join(dir, "remote", `k9-${transport}-${hash}.bin`);
    const args = ["-i", sshd.identityFile, "--host-key", sshd.hostKeySha256, "--transport", transport, "--hash", hash, "--chunk", "256K", "--streams", "2"];
    const remote = `${sshd.user}@${sshd.host}:${dst}`;
    expect(await killCopyAt(cli, [...args, src, remote], dst, 8, { ...cli.env, HOME: dir })).toBe(true);
    const m = parseManifest(fs.readFileSync(manifestPath(dst), "utf8")).manifest!;
    expect(m.hash).toBe(hash);
    const victim = Number(Object.keys(m.chunks)[0]);
    const fd = fs.openSync(partPath(dst), "r+");
    fs.writeSync(fd, Buffer.from("XX"), 0, 2, victim * 256 * K + 7);
    fs.closeSync(fd);
    const res = await runCli(["copy", "--json", "--progress", "none", ...args, "--resume", src, remote]);
    expect(res.code).toBe(0);
    const r = JSON.parse(res.stdout);
    expect(r).toMatchObject({ recopiedChunks: 1, hash });
    expect(r.reusedBytes).toBeGreaterThan(0);
    expect(r.copiedBytes).toBeLessThan(SIZE);
    expect(same(src, dst)).toBe(true);
    expect(fs.existsSync(manifestPath(dst))).toBe(false);
  });

  it("ParallelTransfer's kind copies over the CLI's transport (OpenSSH), verified, and resumes a copy killed mid-way", async () => {
    const SIZE = 16 * 1024 * K;
    const src = randomFile("component.bin", SIZE);
    const dst = path.join(dir, "remote", "component.bin");
    // a partial copy made by the CLI (killed: kill -9), with the component's chunk size
    const args = ["-i", sshd.identityFile, "--host-key", sshd.hostKeySha256, "--chunk", "256K", "--streams", "2", src, `${sshd.user}@${sshd.host}:${dst}`];
    expect(await killCopyAt(cli, args, dst, 8, { ...cli.env, HOME: dir })).toBe(true);
    const host = await SshHost.connect(conn);
    const logs: string[] = [];
    try {
      const spec = { source: src, destination: dst, changeDetection: "mtime", verify: true, allowDestroy: false, chunkSizeBytes: 256 * K, sourceFingerprint: "new" } as ParallelTransferSpec;
      await transferKind.apply(host, { spec, desired: { fingerprint: "new" }, live: undefined, secrets: {}, log: (m) => logs.push(m) });
    } finally {
      await host.close();
    }
    const text = logs.join("\n");
    expect(text).toMatch(/resuming, \d+ of 64 chunks recorded/);
    expect(text).toMatch(/copied 16777216 bytes in .* streams over openssh, verified \((xxh128|sha256)\)\)/);
    expect(same(src, dst)).toBe(true);
  });

  it("CLI: user@host:/path with --identity, --host-key, --cipher exits 0", async () => {
    const src = randomFile("cli.bin", 3 * 1024 * K);
    const res = await runCli([
      "copy", "--progress", "none", "-i", sshd.identityFile, "--host-key", sshd.hostKeySha256, "--cipher", "aes128-gcm@openssh.com",
      "-s", "2", src, `${sshd.user}@${sshd.host}:${path.join(dir, "remote")}/`,
    ]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/copied 1 file to 10\.\d+\.\d+\.2:.*remote\/cli.bin/);
    expect(same(src, path.join(dir, "remote", "cli.bin"))).toBe(true);
  });

  it("CLI: a host key that does not match is refused with exit 8, nothing copied", async () => {
    const src = randomFile("refused.bin", 1000);
    const res = await runCli(["copy", "-i", sshd.identityFile, "--host-key", "SHA256:" + "A".repeat(43), src, `${sshd.host}:${path.join(dir, "remote", "refused.bin")}`]);
    expect(res.code).toBe(EXIT_CODES.CONNECTION);
    expect(res.stderr).toMatch(/kvmshare: error: ssh .*10\.\d+\.\d+\.2:22/);
    expect(fs.existsSync(path.join(dir, "remote", "refused.bin"))).toBe(false);
  });

  it("CLI: an unknown host without --host-key is refused with the command to get its key (exit 8)", async () => {
    const res = await runCli(["copy", "-i", sshd.identityFile, randomFile("u.bin", 10), `${sshd.host}:/tmp/u.bin`]);
    expect(res.code).toBe(EXIT_CODES.CONNECTION);
    expect(res.stderr).toMatch(/not in known_hosts: pass --host-key SHA256:\.\.\. \(get it with 'ssh-keyscan -p 22 10\./);
  });

  it("a remote destination without room: NO_SPACE before anything is written", async () => {
    const mnt = remoteTmpfs("remote-full", "2m");
    try {
      const err = await copy(randomFile("big.bin", 3 * 1024 * K), { kind: "ssh", connection: conn, path: path.join(mnt, "big.bin") }).catch((e) => e);
      expect(err).toBeInstanceOf(TransferError);
      expect(err.code).toBe("NO_SPACE");
      expect(err.message).toMatch(/not enough space on .*: 3145728 bytes needed, \d+ free/);
      expect(inSshd("ls", "-A", mnt).toString()).toBe("");
    } finally {
      inSshd("umount", mnt);
    }
  });

  it("the remote disk filling up mid-copy: NO_SPACE (SFTP's bare 'Failure' explained by statvfs), part file removed", async () => {
    const mnt = remoteTmpfs("remote-fills", "8m");
    try {
      // Another writer takes the rest of the space once the copy has started.
      const filler = atFirstProgress("copiedBytes", () => fillUp(`/proc/${sshd.pid}/root${mnt}/other-writer`));
      const dst = { kind: "ssh" as const, connection: conn, path: path.join(mnt, "fills.bin") };
      const err = await copy(randomFile("fills.bin", 6 * 1024 * K), dst, { chunkSize: 256 * K, streams: 1, onEvent: filler.onEvent }).catch((e) => e);
      expect(filler.fired()).toBe(true);
      expect(err).toBeInstanceOf(TransferError);
      expect(err.code).toBe("NO_SPACE");
      expect(err.message).toMatch(/no space left on the destination while writing .*fills.bin.part/);
      expect(inSshd("ls", "-A", mnt).toString()).toBe("other-writer\n");
    } finally {
      inSshd("umount", mnt);
    }
  });
});
