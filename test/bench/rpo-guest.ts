/**
 * Benchmark (not part of npm test), in the VM lane's OpenZFS guest (QEMU/TCG, real systemd as
 * PID 1, OpenZFS 2.1, Debian's syncoid): `npm run bench:rpo -- --guest [cuts=30] [interval=10] [jitterSeconds=120] [rpoInterval=interval]`.
 *
 * 1. Timer vs loop under load: the same 1 s job (a stand-in for syncoid that records its start
 *    time, so only the scheduling is measured) every `interval` s for `jitterSeconds` each, with
 *    two CPU hogs in the guest (`dd if=/dev/zero bs=1M | sha256sum` x2 on its 2 vCPUs):
 *    - timer: a throwaway oneshot service + a monotonic timer (`OnUnitActiveSec=<interval>`,
 *      `AccuracySec=1s`), written by this bench;
 *    - loop: the service ZfsReplication installs with `interval` (its own script and unit,
 *      rendered by the library), the stand-in in syncoid's place.
 *    Printed: |spacing - interval| (start to start) and, for the loop, |start - grid| p50/p99/max,
 *    and how far the last start drifted from first + n x interval.
 * 2. RPO with the real loop service and the real syncoid (src/vm -> dst/vm, two virtio disks),
 *    `cuts` cut-offs per run, the method of `npm run bench:rpo`: a writer appends
 *    `<seq> <epoch ms>` (fsynced) every second; at a random moment, 0.5-1.5 intervals after the
 *    service (re)started, the service's cgroup is killed with SIGKILL (`systemctl kill -s KILL`,
 *    as when the host dies): loss = cut-off - the newest record on the target (all times from
 *    the guest's clock). The service is started again at once (a killed receive resumes); the
 *    writers run through all cut-offs of a run. Run twice: records only, and records plus a
 *    steady ~20 MiB/s of rewrites of a 64 MiB file (the achieved rate is printed).
 *
 * Everything runs in a throwaway guest (its disks and overlay are deleted at shutdown).
 */
import { ZfsReplicationSpec } from "../../components/protection/zfsReplicationArgs";
import { planSyncoidReplication } from "../../components/protection/syncoidReplication";
import { renderContinuous } from "../../components/protection/continuousReplication";
import { systemdExec } from "../../components/protection/sanoidUnits";
import { resolveZfsReplication } from "../../components/protection/zfsReplicationArgs";
import { Host } from "../../core/connection";
import { bootGuest, Guest } from "../vm/guest";
import { ensureImage } from "../vm/image";
import { pct, summary } from "./rpo";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (l: string) => process.stderr.write(`[rpo-guest] ${l}\n`);
const sh = async (host: Host, script: string, ...args: string[]) => (await host.run(["sh", "-c", script, "sh", ...args], { timeoutMs: 120_000 })).stdout;

/** Write a guest shell loop that records its PID (its process group is killed by that PID later). */
async function writeLoop(host: Host, name: string, body: string): Promise<void> {
  await host.writeFileAtomic(`/root/${name}.sh`, `#!/bin/sh\necho $$ > /root/${name}.pid\n${body}\n`, { mode: "0755" });
}

/** Shell text: start the named loops detached (setsid: each its own process group). */
const startText = (names: string[]) => names.map((n) => `setsid -f /root/${n}.sh </dev/null >/dev/null 2>&1;`).join(" ");
/** Shell text: kill each named loop's process group (its dd, sha256sum, sleep too). */
const stopText = (names: string[]) => names.map((n) => `[ -f /root/${n}.pid ] && kill -9 -- "-$(cat /root/${n}.pid)" 2>/dev/null; rm -f /root/${n}.pid;`).join(" ");

const HOG = "dd if=/dev/zero bs=1M 2>/dev/null | sha256sum >/dev/null";

async function starts(host: Host, file: string): Promise<number[]> {
  return (await host.readFile(file) ?? "").trim().split("\n").filter(Boolean).map((l) => Number(BigInt(l) / 1000000n) / 1000);
}

function spacingReport(label: string, s: number[], interval: number): void {
  const spacing = s.slice(1).map((t, i) => Math.abs(t - s[i] - interval));
  const grid = s.map((t, i) => Math.abs(t - (s[0] + i * interval)));
  console.log(`\n${label}: ${s.length} starts over ${(s[s.length - 1] - s[0]).toFixed(1)} s`);
  summary("|spacing - interval| (s)", spacing, "s");
  console.log(`|start - first + n x interval| p50=${pct(grid, 50).toFixed(2)} s p99=${pct(grid, 99).toFixed(2)} s max=${Math.max(...grid).toFixed(2)} s (drift of the last start: ${(s[s.length - 1] - (s[0] + (s.length - 1) * interval)).toFixed(2)} s)`);
}

async function jitter(host: Host, interval: number, seconds: number): Promise<void> {
  const job = (trace: string) => ["/bin/sh", "-c", `date +%s%N >> ${trace}; sleep 1`];
  await writeLoop(host, "hog1", HOG);
  await writeLoop(host, "hog2", HOG);
  await sh(host, startText(["hog1", "hog2"]));
  try {
    // timer: a oneshot + monotonic timer
    await host.writeFileAtomic("/etc/systemd/system/kvmshare-jitter-timer.service", `[Unit]\nDescription=bench: timer-driven 1 s job\n[Service]\nType=oneshot\nExecStart=${systemdExec(job("/root/trace-timer"))}\n`);
    await host.writeFileAtomic("/etc/systemd/system/kvmshare-jitter-timer.timer", `[Unit]\nDescription=bench: monotonic timer\n[Timer]\nOnActiveSec=1s\nOnUnitActiveSec=${interval}s\nAccuracySec=1s\n`);
    await sh(host, "rm -f /root/trace-timer /root/trace-loop; systemctl daemon-reload && systemctl start kvmshare-jitter-timer.timer");
    say(`timer: ${seconds} s under 2 CPU hogs`);
    await sleep(seconds * 1000);
    await sh(host, "systemctl stop kvmshare-jitter-timer.timer kvmshare-jitter-timer.service");
    // loop: the unit and script ZfsReplication installs, the stand-in in syncoid's place
    const f = renderContinuous({ name: "jitter", source: "src/none", target: "dst/none", localTarget: null, interval, syncoid: job("/root/trace-loop"), post: null, stateDir: "/root/jitter-state", textfileDir: "/root/jitter-textfile" });
    await sh(host, 'mkdir -p "$(dirname "$1")"', f.scriptPath);
    await host.writeFileAtomic(f.scriptPath, f.script, { mode: "0755" });
    await host.writeFileAtomic(`/etc/systemd/system/${f.service}`, f.serviceText);
    await sh(host, 'systemctl daemon-reload && systemctl start "$1"', f.service);
    say(`loop: ${seconds} s under 2 CPU hogs`);
    await sleep(seconds * 1000);
    await sh(host, 'systemctl stop "$1"', f.service);
  } finally {
    await sh(host, `${stopText(["hog1", "hog2"])} true`);
  }
  console.log(`\n=== timer vs loop, interval ${interval} s, 1 s job, 2 CPU hogs in the guest (OpenZFS guest, systemd ${(await sh(host, "systemctl --version | head -n1")).trim()}) ===`);
  spacingReport("timer (OnUnitActiveSec, AccuracySec=1s)", await starts(host, "/root/trace-timer"), interval);
  spacingReport("loop (kvmshare-syncoid-<name>.service)", await starts(host, "/root/trace-loop"), interval);
}

const RECORDS = `i=0
while :; do
  i=$((i + 1))
  printf '%s %s\\n' "$i" "$(date +%s%3N)" | dd of=/src/vm/records.log oflag=append conv=notrunc,fsync status=none
  sleep 1
done`;
// 2 MiB every 0.1 s cycling through 64 MiB = ~20 MiB/s when the guest keeps up; each write is counted.
const STREAM = `head -c 2097152 /dev/urandom > /root/chunk
k=0
while :; do
  dd if=/root/chunk of=/src/vm/stream.bin bs=2M count=1 seek=$((k % 32)) conv=notrunc status=none
  k=$((k + 1)); echo "$k" > /root/stream.count
  sleep 0.1
done`;

async function rpo(host: Host, spec: ZfsReplicationSpec, cuts: number, stream: boolean): Promise<void> {
  const plan = planSyncoidReplication(spec);
  const interval = plan.schedule.intervalSeconds!;
  const svc = plan.service;
  const losses: number[] = [];
  const runs: number[] = [];
  let bytes = 0;
  let streamSeconds = 0;
  const loops = stream ? ["records", "stream"] : ["records"];
  await writeLoop(host, "records", RECORDS);
  await writeLoop(host, "stream", STREAM);
  // The writers run through all cut-offs (the guest's application goes on; only the replication
  // dies and restarts), so every cut-off finds the target as the loop left it, whatever a run took.
  const t0 = Date.now();
  await sh(host, `rm -f /root/stream.count; ${startText(loops)} systemctl start "$1"`, svc);
  await sleep(2 * interval * 1000);
  for (let i = 0; i < cuts; i++) {
    await sleep(interval * 500 + Math.random() * interval * 1000);
    const out = await sh(
      host,
      `systemctl kill -s KILL "$1"; echo "cut=$(date +%s%3N)"; systemctl stop "$1"; echo "rec=$(tail -n 1 /dst/vm/records.log 2>/dev/null)"; echo "ms=$(sed -n "s/^last_run_ms=//p" "$2")"; echo "count=$(cat /root/stream.count 2>/dev/null)"; systemctl start "$1"`,
      svc,
      plan.continuous!.statePath,
    );
    const v = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(out)?.[1] ?? "";
    const [cut, ms, count] = [v("cut"), v("ms"), v("count")];
    const at = Number(v("rec").split(" ")[1]);
    const loss = Number.isFinite(at) && at > 0 ? (Number(cut) - at) / 1000 : NaN;
    losses.push(loss);
    runs.push(Number(ms) / 1000);
    if (stream && count) {
      bytes = Number(count) * 2 * 1024 * 1024;
      streamSeconds = (Date.now() - t0) / 1000;
    }
    say(`cut ${i + 1}/${cuts}: newest record on the target ${loss.toFixed(2)} s before the cut-off (last run ${(Number(ms) / 1000).toFixed(1)} s)`);
  }
  await sh(host, `systemctl stop "$1"; ${stopText(loops)} true`, svc);
  const snaps = (ds: string) => sh(host, 'zfs list -H -t snapshot -o name -r "$1" | grep -c "@syncoid_rpo_" || true', ds);
  console.log(`\n=== RPO in the OpenZFS guest (${stream ? `records + rewrites at ${(bytes / 2 ** 20 / streamSeconds).toFixed(1)} MiB/s achieved` : "one record a second"}), interval ${interval} s, promise ${plan.schedule.rpoSeconds} s, ${cuts} cut-offs ===`);
  summary("loss (s)", losses.filter(Number.isFinite), "s");
  console.log(`NaN (target had no record yet): ${losses.filter((x) => !Number.isFinite(x)).length}`);
  summary("last run duration (s)", runs.filter(Number.isFinite), "s");
  console.log(`own snapshots now: source ${(await snaps("src/vm")).trim()}, target ${(await snaps("dst/vm")).trim()}`);
}

export async function main(argv: string[]): Promise<void> {
  const [cuts, interval, jitterSeconds] = [Number(argv[0] ?? 30), Number(argv[1] ?? 10), Number(argv[2] ?? 120)];
  const rpoInterval = Number(argv[3] ?? interval);
  const t0 = Date.now();
  const image = await ensureImage("openzfs", say);
  let guest: Guest | undefined;
  try {
    guest = await bootGuest(image, { disks: [{ name: "sa", sizeMiB: 1024 }, { name: "sb", sizeMiB: 1024 }], log: say });
    const { host } = guest;
    say(`guest up in ${guest.bootSeconds.toFixed(0)} s`);
    await sh(host, "zpool create -f -m /src src /dev/disk/by-id/virtio-kvmshare-sa && zpool create -f -m /dst dst /dev/disk/by-id/virtio-kvmshare-sb && zfs create -o compression=off src/vm");
    if (jitterSeconds > 0) await jitter(host, interval, jitterSeconds);
    const spec = resolveZfsReplication("rpo", { source: "src/vm", target: "dst/vm", scheduler: "syncoid", interval: rpoInterval });
    const plan = planSyncoidReplication(spec);
    for (const [file, text] of Object.entries(plan.files)) await sh(host, 'mkdir -p "$(dirname "$1")"', file).then(() => host.writeFileAtomic(file, text, { mode: file.endsWith(".sh") ? "0755" : "0644" }));
    await sh(host, "systemctl daemon-reload");
    if (cuts > 0) {
      await rpo(host, spec, cuts, false);
      await rpo(host, spec, cuts, true);
    }
  } finally {
    await guest?.shutdown();
    say(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    console.error("bench failed:", e);
    process.exitCode = 1;
  });
}
