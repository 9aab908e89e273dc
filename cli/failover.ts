/**
 * `kvmshare failover`: the failover drill's two steps from a shell, run on the replica's host.
 *
 *   kvmshare failover promote <replica> [--host ...]
 *                                                  the source host is down: make the replica the
 *                                                  primary (read-write at its newest snapshot)
 *   kvmshare failover resync <promoted> <old-source> [--host ...] [--target-host ...] [--allow-destroy]
 *                                                  the way back: the old source becomes a replica
 *                                                  of the promoted dataset (refused when that would
 *                                                  discard its data, unless --allow-destroy)
 *
 * Both run on this machine unless `--host` (with `--key`, `--host-key`) names the replica's host;
 * the old source is on that same host unless `--target-host` names another.
 *
 * Exit 0 when done, 1 when refused or failed (nothing destroyed), 2 on invalid input. The stack
 * side (exports and guest mounts pointed at the promoted dataset) is in docs/protection.md.
 */
import { Command } from "commander";
import { connect, ConnectionSpec, Host, LocalHost } from "../core/connection";
import { formatProblem, Problem } from "../core/errors";
import { validateDatasetName } from "../components/storage/zfsNames";
import { promoteReplica, resyncOldSource } from "../components/protection/failover";
import { CliIo, processIo } from "./io";
import { HostFlags, hostOptions, hostSpec, TargetHostFlags, targetHostOptions, targetHostSpec } from "./drill";

interface PromoteFlags extends HostFlags {
  json?: boolean;
}

interface ResyncFlags extends HostFlags, TargetHostFlags {
  allowDestroy?: boolean;
}

const REPLICA = "the replica";
const reach = (spec: ConnectionSpec | undefined): Promise<Host> => (spec ? connect(spec) : Promise.resolve(new LocalHost()));

function invalid(io: CliIo, problems: Problem[]): number {
  io.stderr(`kvmshare failover: ${problems.length} invalid input${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}\n`);
  return 2;
}

export function register(program: Command, io: CliIo = processIo): Command {
  const failover = program.command("failover").description("failover drill: promote a replica when its source is down; resync the old source from it afterwards");
  const promote = failover
    .command("promote")
    .description("make the replica the primary: abort a partial receive, read-write at its newest snapshot (nothing rolled back or destroyed)")
    .argument("<replica>", "the replication's target dataset on this machine or --host")
    .option("--json", "print the result as JSON");
  hostOptions(promote, "", REPLICA).action(async (replica: string, flags: PromoteFlags) => {
    const problems = validateDatasetName(replica, "<replica>");
    const spec = hostSpec(flags, "", problems);
    if (problems.length) return io.exit(invalid(io, problems));
    let host: Host | undefined;
    try {
      host = await reach(spec);
      const r = await promoteReplica(host, replica, (m) => io.stderr(`${m}\n`));
      io.stdout(flags.json ? JSON.stringify(r, null, 2) + "\n" : `PROMOTED ${r.dataset} at ${r.snapshot} (${new Date(r.snapshotCreation * 1000).toISOString()}), mounted at ${r.mountpoint ?? "(not mounted)"}, in ${r.seconds.toFixed(2)} s\n`);
      io.exit(0);
    } catch (e) {
      io.stderr(`kvmshare failover promote: ${(e as Error).message}\n`);
      io.exit(1);
    } finally {
      await host?.close();
    }
  });
  const resync = failover
    .command("resync")
    .description("the way back: replicate the promoted dataset to the old source (refused when that would discard the old source's data, unless --allow-destroy)")
    .argument("<promoted>", "the promoted dataset on this machine or --host")
    .argument("<old-source>", "the old source dataset, on the promoted dataset's host or --target-host")
    .option("--allow-destroy", "let zfs receive -F discard what the old source has that the promoted dataset lacks");
  targetHostOptions(hostOptions(resync, "", REPLICA)).action(async (promoted: string, oldSource: string, flags: ResyncFlags) => {
    const problems = [...validateDatasetName(promoted, "<promoted>"), ...validateDatasetName(oldSource, "<old-source>")];
    const srcSpec = hostSpec(flags, "", problems);
    const spec = targetHostSpec(flags, problems);
    if (problems.length) return io.exit(invalid(io, problems));
    let src: Host | undefined;
    let dst: Host | undefined;
    try {
      src = await reach(srcSpec);
      dst = spec || srcSpec ? await reach(spec ?? srcSpec) : new LocalHost();
      await resyncOldSource(src, dst, { promoted, oldSource, allowDestroy: flags.allowDestroy, log: (m) => io.stderr(`${m}\n`) });
      io.stdout(`RESYNCED ${oldSource} on ${dst.label} from ${promoted}: it is now a read-only replica; promote it to switch back\n`);
      io.exit(0);
    } catch (e) {
      const msg = (e as Error).message.replace("set allowDestroy: true", "pass --allow-destroy");
      io.stderr(`kvmshare failover resync: ${msg}\n`);
      io.exit(1);
    } finally {
      await dst?.close();
      await src?.close();
    }
  });
  return program;
}
