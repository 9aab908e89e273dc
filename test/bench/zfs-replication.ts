/**
 * Benchmark (not part of npm test): kvmshare's send/receive streaming vs a raw shell pipe, in
 * the same run on the same data.
 *
 *   npx ts-node --transpile-only test/bench/zfs-replication.ts [MiB=512]
 *
 * Two file-backed zfs-fuse pools in a temp dir, a dataset with compression off filled with
 * random data, one snapshot; then each way receives the same full stream into a new dataset:
 *   raw-local   sh -c 'zfs send S | zfs receive T'
 *   kvmshare    pipeCommands(LocalHost, zfs send, LocalHost, zfs receive)   (a direct kernel pipe)
 *   kvmshare relay  the same with countBytes: the bytes relayed through Node (what SSH targets get)
 *   raw-ssh     sh -c 'zfs send S | ssh -c aes128-gcm@openssh.com root@127.0.0.1 zfs receive T'
 *   kvmshare-ssh pipeCommands(LocalHost, zfs send, SshHost(aes128-gcm), zfs receive, openssh: target spec)
 *               (what ZfsReplication runs: an OpenSSH process), and over ssh2 (the fallback)
 * and prints MiB/s (stream bytes / wall time). Everything it made is destroyed at the end.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalHost, SshHost } from "../../core/connection";
import { pipeCommands } from "../../components/protection/zfsStream";
import { Sshd, startSshd } from "../fixtures/sshd";
import { privateTempDir } from "../fixtures/files";
import { acquireZfsFuse, cleanUpZfsTest } from "../fixtures/zfsFuse";

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 512);
  const lease = await acquireZfsFuse();
  const dir = privateTempDir("kvmshare-bench-zfs-");
  const src = `ksbench${process.pid}s`;
  const dst = `ksbench${process.pid}d`;
  const sizeMiB = Math.max(512, Math.ceil(mib * 1.5));
  let sshd: Sshd | undefined;
  try {
    for (const f of ["s0", "d0"]) execFileSync("truncate", ["-s", `${sizeMiB * (f === "d0" ? 4 : 1) + 256}M`, path.join(dir, f)]);
    execFileSync("zpool", ["create", "-m", path.join(dir, "src"), src, path.join(dir, "s0")]);
    execFileSync("zpool", ["create", "-m", "none", dst, path.join(dir, "d0")]);
    execFileSync("zfs", ["create", "-o", "compression=off", `${src}/data`]);
    const mnt = path.join(dir, "src", "data");
    const fd = fs.openSync(path.join(mnt, "blob.bin"), "w");
    const chunk = crypto.randomBytes(1024 * 1024);
    for (let i = 0; i < mib; i++) fs.writeSync(fd, chunk.map((b) => b ^ (i & 0xff)));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    execFileSync("zfs", ["snapshot", `${src}/data@s1`]);
    const snap = `${src}/data@s1`;
    const local = new LocalHost();
    sshd = await startSshd(fs.mkdtempSync(path.join(dir, "ssh-")));
    const sshSpec = { ...sshd.spec, ciphers: ["aes128-gcm@openssh.com"] };
    const ssh = await SshHost.connect(sshSpec);
    const keyFile = path.join(dir, "ssh-client-key");
    fs.writeFileSync(keyFile, sshd.spec.privateKey!, { mode: 0o600 });
    const sshArgs = `-i ${keyFile} -p ${sshd.spec.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -c aes128-gcm@openssh.com root@127.0.0.1`;

    const rows: { way: string; seconds: number; mibPerSec: number }[] = [];
    const streamBytes = Number(execFileSync("sh", ["-c", 'zfs send "$1" | wc -c', "sh", snap], { encoding: "utf8" }).trim());
    const rate = (way: string, r: { seconds: number }) => ({ way, seconds: r.seconds, mibPerSec: streamBytes / 1048576 / r.seconds });
    const timeShell = (way: string, script: string, target: string) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync("sh", ["-c", script, "sh", snap, target], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${way}: ${r.stderr}`);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      rows.push({ way, seconds, mibPerSec: streamBytes / 1048576 / seconds });
    };
    const settle = async (target: string) => {
      // Each way starts from the same state: the previous target destroyed, zfs-fuse's dirty data flushed.
      spawnSync("zfs", ["destroy", "-r", target]);
      spawnSync("sync");
      await new Promise((r) => setTimeout(r, 5000));
    };
    const rounds = Number(process.env.ROUNDS ?? 2);
    for (let round = 1; round <= rounds; round++) {
      // alternate the order, so neither way always runs on a warmer system
      const ways: [string, () => Promise<void>][] = [
        ["raw-local (sh pipe)", async () => timeShell("raw-local (sh pipe)", 'zfs send "$1" | zfs receive "$2"', `${dst}/t`)],
        ["kvmshare local", async () => void rows.push(rate("kvmshare local (direct pipe)", await pipeCommands(local, ["zfs", "send", snap], local, ["zfs", "receive", `${dst}/t`])))],
        ["kvmshare local relay", async () => void rows.push(rate("kvmshare local (relay through Node)", await pipeCommands(local, ["zfs", "send", snap], local, ["zfs", "receive", `${dst}/t`], { countBytes: true })))],
        ["raw-ssh", async () => timeShell("raw-ssh (sh pipe, ssh aes128-gcm)", `zfs send "$1" | ssh ${sshArgs} zfs receive "$2"`, `${dst}/t`)],
        // what ZfsReplication runs for an SSH target: an OpenSSH process (host key as ssh2 checked it)
        ["kvmshare ssh", async () => void rows.push(rate("kvmshare ssh (OpenSSH aes128-gcm)", await pipeCommands(local, ["zfs", "send", snap], ssh, ["zfs", "receive", `${dst}/t`], { openssh: { target: sshSpec } })))],
        ["kvmshare ssh2", async () => void rows.push(rate("kvmshare ssh2 (before; the fallback)", await pipeCommands(local, ["zfs", "send", snap], ssh, ["zfs", "receive", `${dst}/t`])))],
      ];
      const order = round % 2 ? [0, 1, 2, 3, 4, 5] : [2, 1, 0, 5, 4, 3];
      for (const i of order) {
        await settle(`${dst}/t`);
        await ways[i][1]();
      }
    }
    await ssh.close();

    process.stdout.write(`zfs send | zfs receive, ${mib} MiB of random data, stream ${streamBytes} bytes, zfs-fuse 0.7.0, ${new Date().toISOString()}\n`);
    process.stdout.write("way                                 seconds    MiB/s\n");
    for (const r of rows) process.stdout.write(`${r.way.padEnd(36)}${r.seconds.toFixed(2).padStart(7)}  ${r.mibPerSec.toFixed(1).padStart(7)}\n`);
    const median = (way: string) => {
      const v = rows.filter((r) => r.way.startsWith(way)).map((r) => r.mibPerSec).sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)];
    };
    const [rl, kl, kr, rs, ks, k2] = [median("raw-local"), median("kvmshare local (direct"), median("kvmshare local (relay"), median("raw-ssh"), median("kvmshare ssh (OpenSSH"), median("kvmshare ssh2")];
    const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)} %`;
    process.stdout.write(
      `median MiB/s: raw local ${rl.toFixed(1)}, kvmshare local direct ${kl.toFixed(1)} (${pct(kl, rl)}), relay ${kr.toFixed(1)} (${pct(kr, rl)}); ` +
        `raw ssh ${rs.toFixed(1)}, kvmshare ssh (OpenSSH) ${ks.toFixed(1)} (${pct(ks, rs)}), over ssh2 ${k2.toFixed(1)} (${pct(k2, rs)}); load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}\n`,
    );
  } finally {
    await sshd?.stop();
    await cleanUpZfsTest(lease, dir, [src, dst]).catch((e) => process.stderr.write(`${e}\n`));
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
