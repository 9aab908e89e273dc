/**
 * `npm run bench:transfer`: kvmshare copy against the usual tools and the machine's limits,
 * in one run, on one 2 GiB file of random bytes (not part of `npm test`).
 *
 * Every case starts cold (`sync; echo 3 > /proc/sys/vm/drop_caches`) and its time includes
 * getting the destination onto disk (fsync/sync of the destination file) and the tool's
 * start-up. Local: cp, dd conv=fsync, rclone copyto --multi-thread-streams N, fio sequential
 * write with N jobs, fio read+write (the copy ceiling: reading and writing at once), kvmshare
 * with 1/2/4/8 streams. SSH (an sshd in a network namespace created and deleted here, over a
 * veth pair): scp, rclone sftp, kvmshare 1/2/4/8. Prints a table, writes bench/out/transfer.json.
 *
 * Env: KVMSHARE_BENCH_DIR (scratch dir, default /var/tmp/kvmshare-bench; the source file is
 *      kept there and reused by the next run),
 *      KVMSHARE_BENCH_MIB (file size, default 2048), KVMSHARE_BENCH_ONLY=local|ssh (one half).
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { buildCli } from "./buildCli";
import { startNetnsSshd } from "./netnsSshd";

const MiB = 1024 * 1024;
const SIZE_MIB = Number(process.env.KVMSHARE_BENCH_MIB ?? 2048);
const BYTES = SIZE_MIB * MiB;
const DIR = process.env.KVMSHARE_BENCH_DIR ?? "/var/tmp/kvmshare-bench";
const STREAMS = [1, 2, 4, 8];
const CIPHER = "aes128-gcm@openssh.com";

interface Case {
  group: "local" | "ssh" | "limit";
  tool: string;
  streams: number;
  bytes: number;
  seconds: number;
  MiBps: number;
  note?: string;
}

const cases: Case[] = [];
const notes: string[] = [];

function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function must(argv: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(argv, env);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}: ${r.stderr.trim().slice(-800)}`);
  return r.stdout;
}

let canDrop = true;
async function cold(): Promise<void> {
  await must(["sync"]);
  if (!canDrop) return;
  try {
    fs.writeFileSync("/proc/sys/vm/drop_caches", "3\n");
  } catch (e) {
    canDrop = false;
    notes.push(`page cache could NOT be dropped (${(e as Error).message}): cases after the first read a warm source`);
  }
}

/** Time `steps` (run one after the other) from a cold cache; record MiB/s. */
async function measure(group: Case["group"], tool: string, streams: number, dst: string | undefined, steps: string[][], env?: NodeJS.ProcessEnv, note?: string): Promise<Case> {
  if (dst) fs.rmSync(dst, { recursive: true, force: true });
  await cold();
  const t0 = performance.now();
  for (const s of steps) await must(s, env);
  const seconds = (performance.now() - t0) / 1000;
  if (dst) {
    const st = fs.statSync(dst);
    if (st.size !== BYTES) throw new Error(`${tool}: destination has ${st.size} bytes, expected ${BYTES}`);
  }
  const c: Case = { group, tool, streams, bytes: BYTES, seconds: round(seconds, 3), MiBps: round(BYTES / MiB / seconds, 1) };
  if (note) c.note = note;
  cases.push(c);
  process.stderr.write(`  ${group.padEnd(5)} ${tool.padEnd(24)} ${String(streams).padStart(2)}  ${c.MiBps.toFixed(0).padStart(6)} MiB/s  ${c.seconds.toFixed(2)} s\n`);
  if (dst) fs.rmSync(dst, { force: true });
  return c;
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

/** fio: `writers` sequential writer jobs on a new file, plus `readers` reading the source. */
async function fio(readers: number, writers: number, src: string): Promise<Case> {
  const out = path.join(DIR, "fio-dst.bin");
  fs.rmSync(out, { force: true });
  const per = Math.floor(BYTES / writers / MiB) * MiB;
  const rper = Math.floor(BYTES / Math.max(1, readers) / MiB) * MiB;
  const job = [
    "[global]",
    "ioengine=psync",
    "bs=1M",
    "direct=0",
    "end_fsync=1",
    "group_reporting=0",
    `[writers]`,
    "rw=write",
    `filename=${out}`,
    `size=${per}`,
    `offset_increment=${per}`,
    `numjobs=${writers}`,
    ...(readers
      ? ["[readers]", "rw=read", `filename=${src}`, `size=${rper}`, `offset_increment=${rper}`, `numjobs=${readers}`]
      : []),
  ].join("\n");
  const jobFile = path.join(DIR, "bench.fio");
  fs.writeFileSync(jobFile, job + "\n");
  await cold();
  const t0 = performance.now();
  const json = JSON.parse(await must(["fio", "--output-format=json", jobFile])) as {
    jobs: { jobname: string; write: { io_bytes: number }; read: { io_bytes: number }; job_runtime: number }[];
  };
  const wall = (performance.now() - t0) / 1000;
  fs.rmSync(out, { force: true });
  const w = json.jobs.filter((j) => j.jobname === "writers");
  const written = w.reduce((n, j) => n + j.write.io_bytes, 0);
  // The writers' time, fsync included (end_fsync is inside each job's runtime).
  const seconds = Math.max(...w.map((j) => j.job_runtime)) / 1000;
  const tool = readers ? `fio read+write ${readers}+${writers}` : "fio seq write";
  const c: Case = { group: "limit", tool, streams: writers, bytes: written, seconds: round(seconds, 3), MiBps: round(written / MiB / seconds, 1), note: `fio wall ${wall.toFixed(2)} s` };
  cases.push(c);
  process.stderr.write(`  limit ${tool.padEnd(24)} ${String(writers).padStart(2)}  ${c.MiBps.toFixed(0).padStart(6)} MiB/s  ${c.seconds.toFixed(2)} s\n`);
  return c;
}

async function makeSource(src: string): Promise<void> {
  if (fs.existsSync(src) && fs.statSync(src).size === BYTES) return;
  const fd = fs.openSync(src, "w");
  const buf = Buffer.allocUnsafe(64 * MiB);
  for (let done = 0; done < BYTES; ) {
    const n = Math.min(buf.length, BYTES - done);
    crypto.randomFillSync(buf, 0, n);
    fs.writeSync(fd, buf, 0, n);
    done += n;
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

function best(filter: (c: Case) => boolean): Case | undefined {
  return cases.filter(filter).sort((a, b) => b.MiBps - a.MiBps)[0];
}

async function main(): Promise<void> {
  fs.mkdirSync(DIR, { recursive: true });
  const src = path.join(DIR, "src.bin");
  const dst = path.join(DIR, "dst.bin");
  const started = new Date().toISOString();
  const load = os.loadavg();
  process.stderr.write(`kvmshare transfer benchmark: ${SIZE_MIB} MiB, ${os.availableParallelism()} cores, load ${load.map((l) => l.toFixed(2)).join(" ")}\n`);
  if (load[0] > os.availableParallelism()) notes.push(`the machine was busy when this ran (load ${load[0].toFixed(1)} on ${os.availableParallelism()} cores): compare within this run only`);
  await makeSource(src);
  const cli = buildCli();
  const kvm = (...args: string[]) => [...cli.argv, "copy", "-q", ...args];
  try {
    const only = process.env.KVMSHARE_BENCH_ONLY;
    const rcloneEnv = { ...process.env, RCLONE_CONFIG: "/dev/null" };
    if (only !== "ssh") {
    // ---- limits
    for (const n of [1, 4]) await fio(0, n, src);
    await fio(1, 1, src);
    await fio(4, 4, src);
    // ---- local copies
    await measure("local", "cp", 1, dst, [["cp", src, dst], ["sync", dst]]);
    await measure("local", "dd bs=1M conv=fsync", 1, dst, [["dd", `if=${src}`, `of=${dst}`, "bs=1M", "conv=fsync", "status=none"]]);
    for (const n of STREAMS) {
      await measure("local", "rclone copyto", n, dst, [["rclone", "copyto", "--multi-thread-cutoff", "1M", "--multi-thread-streams", String(n), src, dst], ["sync", dst]], rcloneEnv);
    }
    for (const n of STREAMS) await measure("local", "kvmshare copy", n, dst, [kvm("--streams", String(n), src, dst)], cli.env);
    for (const n of [4, 8]) await measure("local", "kvmshare copy --no-verify", n, dst, [kvm("--streams", String(n), "--no-verify", src, dst)], cli.env);
    }

    // ---- over SSH
    if (only !== "local") {
      const sshd = await startNetnsSshd();
      try {
        const remote = `${sshd.user}@${sshd.host}`;
        const sshOpts = ["-i", sshd.identityFile, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-c", CIPHER];
        // The "remote" file system is this machine's, so `sync FILE` here flushes the remote copy.
        await measure("ssh", `scp -c ${CIPHER}`, 1, dst, [["scp", ...sshOpts, src, `${remote}:${dst}`], ["sync", dst]]);
        const rcloneRemote = `:sftp,host=${sshd.host},user=${sshd.user},key_file=${sshd.identityFile}:${dst}`;
        for (const n of [1, 4]) {
          await measure("ssh", "rclone sftp", n, dst, [["rclone", "copyto", "--multi-thread-streams", String(n), "--transfers", String(n), src, rcloneRemote], ["sync", dst]], rcloneEnv, "rclone 1.60 uploads one file over one stream; Go's default cipher (aes128-gcm)");
        }
        for (const n of STREAMS) {
          await measure("ssh", `kvmshare copy --cipher ${CIPHER}`, n, dst, [kvm("--streams", String(n), "-i", sshd.identityFile, "--host-key", sshd.hostKeySha256, "--cipher", CIPHER, src, `${remote}:${dst}`)], cli.env);
        }
      } finally {
        await sshd.stop();
      }
    }
  } finally {
    cli.remove();
    fs.rmSync(dst, { force: true });
    fs.rmSync(path.join(DIR, "bench.fio"), { force: true });
  }

  const kvLocal = best((c) => c.group === "local" && c.tool === "kvmshare copy");
  const kvSsh = best((c) => c.group === "ssh" && c.tool.startsWith("kvmshare"));
  const cp = best((c) => c.tool === "cp");
  const rclone = best((c) => c.group === "local" && c.tool === "rclone copyto");
  const scp = best((c) => c.tool.startsWith("scp"));
  const ceiling = best((c) => c.tool.startsWith("fio read+write"));
  const kvNoVerify = best((c) => c.group === "local" && c.tool === "kvmshare copy --no-verify");
  const ratio = (a?: Case, b?: Case) => (a && b ? round(a.MiBps / b.MiBps, 2) : null);
  if (kvNoVerify) notes.push(`without read-back verification (--no-verify): vs_cp ${ratio(kvNoVerify, cp)}, vs_limit ${ratio(kvNoVerify, ceiling)}`);
  const ratios = { vs_cp: ratio(kvLocal, cp), vs_rclone: ratio(kvLocal, rclone), vs_limit: ratio(kvLocal, ceiling), vs_scp: ratio(kvSsh, scp) };

  const lines = [
    `| group | tool | streams | seconds | MiB/s |`,
    `|---|---|---:|---:|---:|`,
    ...cases.map((c) => `| ${c.group} | ${c.tool} | ${c.streams} | ${c.seconds.toFixed(2)} | ${c.MiBps.toFixed(0)} |`),
    "",
    `vs_cp ${ratios.vs_cp} (target >= 1.3)  vs_rclone ${ratios.vs_rclone}  vs_limit ${ratios.vs_limit} (target >= 0.85)  vs_scp ${ratios.vs_scp}`,
    `kvmshare best local: ${kvLocal?.MiBps} MiB/s at ${kvLocal?.streams} streams; over SSH: ${kvSsh?.MiBps} MiB/s at ${kvSsh?.streams} streams; copy ceiling (fio read+write): ${ceiling?.MiBps} MiB/s`,
    ...notes.map((n) => `note: ${n}`),
  ];
  process.stdout.write(lines.join("\n") + "\n");
  const outDir = path.join(__dirname, "out");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, "transfer.json"),
    JSON.stringify({ started, bytes: BYTES, cores: os.availableParallelism(), loadavg: load, cacheDropped: canDrop, cases, ratios, notes }, null, 2) + "\n",
  );
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
