/**
 * Benchmark (not part of npm test): syncoid vs kvmshare's own send/receive engine, full and
 * incremental, on the same data in the same run (zfs-fuse on this machine, or any ZFS).
 *
 *   nice npx ts-node --transpile-only test/bench/zfs-syncoid.ts [MiB=256] [rounds=2]
 *
 * Two file-backed pools; a dataset (compression off) with MiB of random data, snapshot @s1; then
 * MiB more of new random data, snapshot @s2. Each round, in alternating order, each way makes a
 * fresh target and times
 *   full         @s1 into an empty target;
 *   incremental  @s1 -> @s2 (the MiB of changes).
 * Ways: syncoid (`--no-sync-snap --no-rollback`, existing snapshots, as the timer runs it but
 * without taking its own snapshot), kvmshare (`pipeCommands`, the engine ZfsReplication uses),
 * and a raw `zfs send | zfs receive` shell pipe as the reference. Prints seconds, MiB/s (stream
 * bytes / wall time) and the ratio to the raw pipe. Everything it made is destroyed at the end.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalHost } from "../../core/connection";
import { pipeCommands } from "../../components/protection/zfsStream";
import { privateTempDir } from "../fixtures/files";
import { acquireZfsFuse, cleanUpZfsTest } from "../fixtures/zfsFuse";

const sh = (script: string, ...args: string[]) => {
  const r = spawnSync("sh", ["-c", script, "sh", ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r.stdout;
};

/** `zfs destroy -r`, retried: zfs-fuse says "dataset is busy" for a moment after a receive. */
async function destroy(ds: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if (spawnSync("zfs", ["list", "-H", "-o", "name", ds]).status !== 0) return;
    spawnSync("zfs", ["destroy", "-r", ds]);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`could not destroy ${ds}`);
}

function fill(file: string, mib: number, salt: number): void {
  const fd = fs.openSync(file, "w");
  const chunk = crypto.randomBytes(1024 * 1024);
  for (let i = 0; i < mib; i++) fs.writeSync(fd, chunk.map((b) => b ^ ((i + salt) & 0xff)));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 256);
  const rounds = Number(process.argv[3] ?? 2);
  const lease = await acquireZfsFuse();
  const dir = privateTempDir("kvmshare-bench-syncoid-");
  const src = `kssy${process.pid}s`;
  const dst = `kssy${process.pid}d`;
  try {
    execFileSync("truncate", ["-s", `${mib * 5 + 1024}M`, path.join(dir, "s0")]);
    execFileSync("truncate", ["-s", `${mib * 3 + 1024}M`, path.join(dir, "d0")]);
    execFileSync("zpool", ["create", "-m", path.join(dir, "src"), src, path.join(dir, "s0")]);
    execFileSync("zpool", ["create", "-m", "none", dst, path.join(dir, "d0")]);
    const ds = `${src}/data`;
    execFileSync("zfs", ["create", "-o", "compression=off", ds]);
    fill(path.join(dir, "src", "data", "base.bin"), mib, 0);
    execFileSync("zfs", ["snapshot", `${ds}@s1`]);
    fill(path.join(dir, "src", "data", "changes.bin"), mib, 7);
    execFileSync("zfs", ["snapshot", `${ds}@s2`]);
    const fullBytes = Number(sh('zfs send "$1" | wc -c', `${ds}@s1`).trim());
    const incBytes = Number(sh('zfs send -i "$1" "$2" | wc -c', `${ds}@s1`, `${ds}@s2`).trim());
    const local = new LocalHost();

    type Row = { way: string; kind: "full" | "incremental"; seconds: number };
    const rows: Row[] = [];
    const timed = async (way: string, kind: Row["kind"], fn: () => Promise<unknown> | unknown) => {
      spawnSync("sync");
      await new Promise((r) => setTimeout(r, 3000));
      const t0 = process.hrtime.bigint();
      await fn();
      rows.push({ way, kind, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    };
    // syncoid chooses what to send from the snapshots it sees, so full and incremental are timed
    // with two source states: a dataset holding only @s1 (full), then the same with @s2 (incremental).
    const stage = `${src}/stage`;
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? ["syncoid", "kvmshare", "raw"] : ["raw", "kvmshare", "syncoid"];
      for (const way of order) {
        const target = `${dst}/${way}`;
        await destroy(target);
        await destroy(stage);
        // stage = a copy of @s1 only (so syncoid sees exactly one snapshot for the full run)
        sh('zfs send "$1" | zfs receive "$2"', `${ds}@s1`, stage);
        if (way === "syncoid") {
          await timed(way, "full", () => sh('syncoid --no-sync-snap --no-rollback --quiet "$1" "$2"', stage, target));
          sh('zfs send -i "$1" "$2" | zfs receive "$3"', `${ds}@s1`, `${ds}@s2`, stage);
          await timed(way, "incremental", () => sh('syncoid --no-sync-snap --no-rollback --quiet "$1" "$2"', stage, target));
        } else if (way === "kvmshare") {
          await timed(way, "full", () => pipeCommands(local, ["zfs", "send", `${stage}@s1`], local, ["zfs", "receive", target]));
          sh('zfs send -i "$1" "$2" | zfs receive "$3"', `${ds}@s1`, `${ds}@s2`, stage);
          await timed(way, "incremental", () => pipeCommands(local, ["zfs", "send", "-i", `${stage}@s1`, `${stage}@s2`], local, ["zfs", "receive", target]));
        } else {
          await timed(way, "full", () => sh('zfs send "$1" | zfs receive "$2"', `${stage}@s1`, target));
          sh('zfs send -i "$1" "$2" | zfs receive "$3"', `${ds}@s1`, `${ds}@s2`, stage);
          await timed(way, "incremental", () => sh('zfs send -i "$1" "$2" | zfs receive "$3"', `${stage}@s1`, `${stage}@s2`, target));
        }
        const got = sh('zfs list -H -t snapshot -o name -r "$1"', target).trim().split("\n").map((s) => s.split("@")[1]);
        if (got.join(",") !== "s1,s2") throw new Error(`${way}: target has ${got.join(",")}, expected s1,s2`);
        await destroy(target);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ref: Record<string, number> = {};
    for (const kind of ["full", "incremental"] as const) ref[kind] = median(rows.filter((r) => r.way === "raw" && r.kind === kind).map((r) => r.seconds));
    console.log(`\n${mib} MiB base + ${mib} MiB of changes; stream: full ${(fullBytes / 1048576).toFixed(0)} MiB, incremental ${(incBytes / 1048576).toFixed(0)} MiB; ${rounds} rounds, median`);
    console.log("way        kind         seconds   MiB/s   vs raw time");
    for (const way of ["raw", "kvmshare", "syncoid"]) {
      for (const kind of ["full", "incremental"] as const) {
        const s = median(rows.filter((r) => r.way === way && r.kind === kind).map((r) => r.seconds));
        const bytes = kind === "full" ? fullBytes : incBytes;
        console.log(`${way.padEnd(10)} ${kind.padEnd(12)} ${s.toFixed(2).padStart(7)} ${(bytes / 1048576 / s).toFixed(0).padStart(7)}   ${(s / ref[kind]).toFixed(2)}x`);
      }
    }
    console.log(`all runs: ${JSON.stringify(rows.map((r) => [r.way, r.kind, +r.seconds.toFixed(2)]))}`);
  } catch (e) {
    console.error("bench failed:", e);
    process.exitCode = 1;
  } finally {
    await cleanUpZfsTest(lease, dir, [src, dst]).catch((e) => console.error(String(e)));
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
