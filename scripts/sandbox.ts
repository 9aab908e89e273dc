/**
 * `npm run sandbox [-- up|preview|refresh|destroy] [--refresh]`: run the quick-start stack.
 *
 * It runs the real Pulumi engine through the Automation API (LocalWorkspace, file backend in
 * `.sandbox/.pulumi`, offline settings from core/pulumiEnv.ts); `scripts/setup.sh` builds the CLI.
 * Without a `pulumi` CLI on the PATH it stops with a message naming the set-up step (there is
 * no fallback engine: what the quick start shows is what `pulumi up` does).
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

const root = path.resolve(__dirname, "..");
const sandboxDir = path.resolve(process.env.KVMSHARE_SANDBOX ?? path.join(root, ".sandbox"));
const args = process.argv.slice(2);
const command = args.find((a) => !a.startsWith("-")) ?? "up";
const refresh = args.includes("--refresh");

const zfsPidFile = path.join(sandboxDir, "zfs-fuse.pid");

function zfsAnswers(): boolean {
  return spawnSync("zfs", ["list", "-H"], { stdio: "ignore" }).status === 0;
}

/**
 * The quick start's pool needs a running ZFS. Kernel OpenZFS or a running zfs-fuse is used as
 * it is; otherwise, as root with zfs-fuse installed, one is started for the sandbox (its PID kept
 * in the sandbox, stopped by `destroy`). Without either, the share is a plain directory.
 */
async function ensureZfs(): Promise<boolean> {
  if (process.env.KVMSHARE_SANDBOX_ZFS === "0") return false;
  if (zfsAnswers()) return true;
  const haveFuse = spawnSync("sh", ["-c", "command -v zfs-fuse"], { stdio: "ignore" }).status === 0;
  if (!haveFuse || process.getuid?.() !== 0) {
    console.log("kvmshare sandbox: no running ZFS (and cannot start zfs-fuse here): sharing a plain directory instead of a dataset");
    return false;
  }
  const child = spawn("zfs-fuse", ["--no-daemon", "--no-kstat-mount"], { detached: true, stdio: "ignore" });
  child.unref();
  fs.writeFileSync(zfsPidFile, String(child.pid));
  for (let i = 0; i < 100 && !zfsAnswers(); i++) await new Promise((r) => setTimeout(r, 100));
  if (!zfsAnswers()) throw new Error(`zfs-fuse (pid ${child.pid}) did not answer within 10 s`);
  console.log(`kvmshare sandbox: started zfs-fuse (pid ${child.pid}); \`npm run sandbox -- destroy\` stops it`);
  return true;
}

function stopOwnZfs(): void {
  if (!fs.existsSync(zfsPidFile)) return;
  const pid = Number(fs.readFileSync(zfsPidFile, "utf8"));
  try {
    process.kill(pid, "SIGTERM");
    console.log(`kvmshare sandbox: stopped zfs-fuse (pid ${pid})`);
  } catch {
    /* already gone */
  }
  fs.rmSync(zfsPidFile, { force: true });
}

/** A 64 MiB source file for the transfer (random, so compression cannot flatter the copy). */
function ensureSource(): string {
  const f = path.join(sandboxDir, "source.bin");
  if (!fs.existsSync(f)) {
    const fd = fs.openSync(f, "w");
    for (let i = 0; i < 64; i++) fs.writeSync(fd, crypto.randomBytes(1 << 20));
    fs.closeSync(fd);
  }
  return f;
}

function hasPulumiCli(): boolean {
  try {
    execFileSync("pulumi", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function withAutomationApi(withZfs: boolean): Promise<void> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  const backend = path.join(sandboxDir, ".pulumi");
  fs.mkdirSync(backend, { recursive: true });
  const { offlinePulumiEnv } = await import("../core/pulumiEnv");
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "sandbox", workDir: root },
    { envVars: offlinePulumiEnv({ backendDir: backend, passphrase: process.env.PULUMI_CONFIG_PASSPHRASE ?? "sandbox" }) },
  );
  await stack.setConfig("sandboxDir", { value: sandboxDir });
  await stack.setConfig("withZfs", { value: String(withZfs) });
  // The CLI's output is streamed as it comes, stdout and stderr each once; a failure is then
  // one line (the Automation API's error repeats both streams in its message).
  const onOutput = (s: string) => process.stdout.write(s);
  const onError = (s: string) => process.stderr.write(s);
  try {
    if (command === "up") await stack.up({ onOutput, onError, refresh, diff: true });
    else if (command === "preview") await stack.preview({ onOutput, onError, refresh, expectNoChanges: refresh, diff: true });
    else if (command === "refresh") await stack.refresh({ onOutput, onError });
    else if (command === "destroy") await stack.destroy({ onOutput, onError });
    else throw new Error(`unknown command '${command}' (use up, preview, refresh or destroy)`);
  } catch (e) {
    if (!(e as { commandResult?: unknown }).commandResult) throw e;
    throw new Error(`pulumi ${command}${refresh ? " --refresh" : ""} failed (its output is above)`);
  }
  if (command === "destroy") {
    await stack.workspace.removeStack("sandbox");
    const stacks = path.join(backend, ".pulumi", "stacks");
    // `stack rm` leaves backups (*.json.bak) behind: the backend goes when it holds no other stack.
    if (!fs.existsSync(stacks) || !walkFiles(stacks).some((f) => f.endsWith(".json"))) fs.rmSync(backend, { recursive: true, force: true });
  }
}

function walkFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walkFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Directories the sandbox lays out before `up` (the stack itself creates the rest). */
const LAYOUT = ["vdevs", "srv/share", "etc/exports.d", "guest"];

/**
 * After a destroy: `.sandbox` as it was before `up`. The stack removed what it made (files, the
 * pool and its vdev files, allowDestroy being set on the sandbox's pool and dataset); this
 * removes the sandbox's own source file and every directory left empty, never another file.
 */
function tidySandbox(): void {
  fs.rmSync(path.join(sandboxDir, "source.bin"), { force: true });
  const prune = (d: string): boolean => {
    if (!fs.existsSync(d) || !fs.statSync(d).isDirectory() || fs.lstatSync(d).isSymbolicLink()) return false;
    for (const e of fs.readdirSync(d)) prune(path.join(d, e));
    const empty = fs.readdirSync(d).length === 0;
    if (empty) fs.rmdirSync(d);
    return empty;
  };
  prune(sandboxDir);
  const left = fs.existsSync(sandboxDir) ? walkFiles(sandboxDir) : [];
  console.log(left.length ? `kvmshare sandbox: left in ${sandboxDir} (not made by the sandbox): ${left.join(", ")}` : `kvmshare sandbox: removed ${sandboxDir}`);
}

async function main(): Promise<void> {
  if (command !== "destroy") {
    for (const d of LAYOUT) fs.mkdirSync(path.join(sandboxDir, d), { recursive: true });
    ensureSource();
  }
  const withZfs = command === "destroy" ? fs.existsSync(zfsPidFile) || zfsAnswers() : await ensureZfs();
  if (!hasPulumiCli()) {
    throw new Error("no pulumi CLI on PATH: run `bash scripts/setup.sh` (as root on a fresh machine), which builds it from Go modules, then run the sandbox again");
  }
  console.log(`kvmshare sandbox: state in ${sandboxDir}/.pulumi (the real Pulumi engine, through the Automation API)`);
  await withAutomationApi(withZfs);
  if (command === "destroy" && process.exitCode === undefined) {
    stopOwnZfs();
    tidySandbox();
  }
}

main().catch((e) => {
  console.error(`sandbox: ${(e as Error).message}`);
  process.exit(1);
});
