/**
 * `kvmshare drill <source> <target>`: the restore drill from a shell or a timer. Clones the
 * newest snapshot both datasets share on each side, compares sha256 manifests of every file,
 * destroys the clones, prints the result (a line, or JSON with `--json`) and exits 0 on a match,
 * 1 on a mismatch, 2 when the input is invalid or the drill could not run.
 *
 * The target is on this machine unless `--target-host` is given (SSH with a key file and the
 * host key's fingerprint, the way components connect).
 */
import { Command, InvalidArgumentError } from "commander";
import * as fs from "fs";
import { connect, ConnectionSpec, LocalHost } from "../core/connection";
import { validateDatasetName } from "../components/storage/zfsNames";
import { escapeControl, formatProblem, Problem } from "../core/errors";
import { drillSelfReference, sameHost } from "../components/protection/relations";
import { MAX_PORT, MIN_PORT } from "../core/validate";
// Loaded when a drill runs: the engine (Pulumi and the protection area) costs ~0.7 s of CPU to
// load, which every `kvmshare copy` paid at start-up.
import type { DrillResult } from "../components/protection/restoreDrillEngine";
import { CliIo, processIo } from "./io";

/** The `--target-*` flags: how to reach a dataset on another host (SSH, key file, host key). */
export interface TargetHostFlags {
  targetHost?: string;
  targetUser?: string;
  targetPort?: number;
  targetKey?: string;
  targetHostKey?: string;
}

interface DrillFlags extends TargetHostFlags {
  snapshot?: string;
  json?: boolean;
}

/** The same flags without a prefix (`--host`, `--user`, `--port`, `--key`, `--host-key`). */
export interface HostFlags {
  host?: string;
  user?: string;
  port?: number;
  key?: string;
  hostKey?: string;
}

/** `--target-host` / `targetHost` under the prefix "target", `--host` / `host` under "". */
const flag = (prefix: string, what: string) => `--${prefix ? `${prefix}-` : ""}${what}`;
const prop = (prefix: string, what: string) => (prefix + what.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())).replace(/^./, (c) => c.toLowerCase());

/** Add the SSH host options under `prefix` to a command; `who` is what they reach ("the target"). */
export function hostOptions(cmd: Command, prefix: "target" | "", who: string): Command {
  return cmd
    .option(`${flag(prefix, "host")} <host>`, `${who} is on this host (SSH)`)
    .option(`${flag(prefix, "user")} <user>`, `SSH user on ${who}'s host`, "root")
    .option(`${flag(prefix, "port")} <port>`, `SSH port of ${who}'s host`, port, 22)
    .option(`${flag(prefix, "key")} <file>`, `private key file for ${who}'s host`)
    .option(`${flag(prefix, "host-key")} <SHA256:...>`, `${who}'s host key fingerprint (ssh-keygen -l)`);
}

/** The SSH connection the flags under `prefix` name (undefined: this machine); problems go to `problems`. */
export function hostSpec(flags: object, prefix: "target" | "", problems: Problem[]): ConnectionSpec | undefined {
  const f = flags as Record<string, string | number | undefined>;
  const get = (what: string) => f[prop(prefix, what)];
  if (!get("host")) return undefined;
  const key = get("key") as string | undefined;
  const hostKey = get("host-key") as string | undefined;
  if (!key) problems.push({ field: flag(prefix, "key"), message: `is required with ${flag(prefix, "host")} (a private key file)` });
  if (!hostKey) problems.push({ field: flag(prefix, "host-key"), message: `is required with ${flag(prefix, "host")} (SHA256:... as ssh-keygen -l prints it)` });
  if (key && !fs.existsSync(key)) problems.push({ field: flag(prefix, "key"), value: key, message: "no such file" });
  if (problems.length) return undefined;
  return { kind: "ssh", host: String(get("host")), user: get("user") as string | undefined, port: get("port") as number | undefined, privateKey: fs.readFileSync(key!, "utf8"), hostKeySha256: hostKey };
}

/** Add the `--target-*` options to a command. */
export function targetHostOptions(cmd: Command): Command {
  return hostOptions(cmd, "target", "the target");
}

/** The target's SSH connection from the flags (undefined: this machine); problems go to `problems`. */
export function targetHostSpec(f: TargetHostFlags, problems: Problem[]): ConnectionSpec | undefined {
  return hostSpec(f, "target", problems);
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < MIN_PORT || n > MAX_PORT) throw new InvalidArgumentError(`must be a port number ${MIN_PORT}-${MAX_PORT}`);
  return n;
}

export function formatDrill(r: DrillResult, source: string, target: string): string {
  const head = `${r.match ? "MATCH" : "MISMATCH"} ${target}@${r.snapshot} vs ${source}@${r.snapshot}: ${r.files} files, ` +
    `${r.mismatched.length} differ, ${r.missing.length} missing, ${r.extra.length} extra, ${r.unreadable.length} unreadable (${r.seconds.toFixed(1)} s)\n`;
  // File names come from the datasets: their control characters are escaped (no terminal escapes).
  const list = (what: string, xs: string[]) => xs.slice(0, 20).map((x) => `  ${what} ${escapeControl(x)}\n`).join("") + (xs.length > 20 ? `  ... ${xs.length - 20} more\n` : "");
  return head + list("differs:", r.mismatched) + list("missing:", r.missing) + list("extra:", r.extra) + list("unreadable:", r.unreadable);
}

export function register(program: Command, io: CliIo = processIo): Command {
  const cmd = program
    .command("drill")
    .description("restore drill: clone the newest common snapshot on both sides, compare sha256 manifests, clean up")
    .argument("<source>", "source dataset (pool/path) on this machine")
    .argument("<target>", "backup dataset (pool/path), on this machine or --target-host")
    .option("--snapshot <name>", "the snapshot to check (after '@'; default: the newest one both share)")
    .option("--json", "print the result as JSON");
  targetHostOptions(cmd).action(async (source: string, target: string, flags: DrillFlags) => {
    io.exit(await runDrillCommand(source, target, flags, io));
  });
  return program;
}

async function runDrillCommand(source: string, target: string, f: DrillFlags, io: CliIo): Promise<number> {
  const problems = [...validateDatasetName(source, "<source>"), ...validateDatasetName(target, "<target>")];
  const self = sameHost(undefined, f.targetHost ? { kind: "ssh", host: f.targetHost, port: f.targetPort } : undefined) ? drillSelfReference(source, target) : undefined;
  if (self) problems.push({ field: "<target>", value: target, message: self });
  if (f.snapshot !== undefined && !/^[A-Za-z0-9_.:-]+$/.test(f.snapshot)) problems.push({ field: "--snapshot", value: f.snapshot, message: "must be a snapshot name (after '@')" });
  const spec = targetHostSpec(f, problems);
  if (problems.length) {
    io.stderr(`kvmshare drill: ${problems.length} invalid input${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}\n`);
    return 2;
  }
  const src = new LocalHost();
  let dst;
  try {
    dst = spec ? await connect(spec) : new LocalHost();
    const { runRestoreDrill } = await import("../components/protection/restoreDrillEngine");
    const r = await runRestoreDrill(src, dst, { source, target, snapshot: f.snapshot, log: (m) => io.stderr(`${escapeControl(m)}\n`) });
    io.stdout(f.json ? JSON.stringify(r, null, 2) + "\n" : formatDrill(r, source, target));
    return r.match ? 0 : 1;
  } catch (e) {
    io.stderr(`kvmshare drill: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await dst?.close();
    await src.close();
  }
}
