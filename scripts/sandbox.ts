/**
 * `npm run sandbox [-- up|preview|refresh|destroy] [--refresh]`: run the quick-start stack.
 *
 * It runs the real Pulumi engine through the Automation API (LocalWorkspace, file backend in
 * `.sandbox/.pulumi`, offline settings from core/pulumiEnv.ts); `scripts/setup.sh` builds the CLI.
 * Only when no `pulumi` CLI is on the PATH does it fall back to kvmshare's in-process engine
 * (test/harness), and it says so.
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
  const onOutput = (s: string) => process.stdout.write(s);
  if (command === "up") await stack.up({ onOutput, refresh });
  else if (command === "preview") await stack.preview({ onOutput, refresh, expectNoChanges: refresh });
  else if (command === "refresh") await stack.refresh({ onOutput });
  else if (command === "destroy") await stack.destroy({ onOutput });
  else throw new Error(`unknown command '${command}' (use up, preview, refresh or destroy)`);
}

async function withInProcessEngine(withZfs: boolean): Promise<void> {
  // ts-node resolves the harness and the components from sources.
  const { Engine } = await import("../test/harness/engine");
  const { quickstart } = await import("../quickstart/stack");
  const engine = new Engine({ stateFile: path.join(sandboxDir, "state.json"), project: "kvmshare-quickstart", stack: "sandbox" });
  const program = () => {
    quickstart({ sandboxDir, withZfs });
  };
  const t0 = Date.now();
  const result =
    command === "up"
      ? (refresh && (await engine.refresh()), await engine.up(program))
      : command === "preview"
        ? await engine.preview(program, { refresh })
        : command === "refresh"
          ? await engine.refresh()
          : command === "destroy"
            ? await engine.destroy()
            : undefined;
  if (!result) throw new Error(`unknown command '${command}' (use up, preview, refresh or destroy)`);
  for (const s of result.steps) {
    const detail = s.diffs.length ? `  [${s.diffs.join(", ")}]` : "";
    console.log(`  ${s.op.padEnd(8)} ${s.type.replace("pulumi-nodejs:dynamic/", "")}  ${s.name}${detail}`);
  }
  const changes = result.changes.length;
  console.log(`${command}: ${changes} change${changes === 1 ? "" : "s"}, ${result.steps.length} resources, ${Date.now() - t0} ms`);
  const outs = Object.entries(result.outputs);
  const t = outs.find(([name]) => name === "quickstart-transfer-copy")?.[1] as Record<string, unknown> | undefined;
  if (command === "up" && t?.bytes !== undefined) {
    console.log(`  transfer: ${t.bytes} bytes in ${t.seconds} s (${t.mibps} MiB/s, ${t.streams} streams, verified)`);
  }
  if (result.errors.length) {
    console.error(result.errors.join("\n"));
    process.exitCode = 1;
  } else if (command === "preview" && refresh && changes > 0) {
    console.error("preview --refresh: the sandbox drifted from the program (like --expect-no-changes)");
    process.exitCode = 2;
  }
}

async function main(): Promise<void> {
  for (const d of ["vdevs", "srv/share", "etc/exports.d", "guest"]) fs.mkdirSync(path.join(sandboxDir, d), { recursive: true });
  ensureSource();
  const withZfs = command === "destroy" ? fs.existsSync(zfsPidFile) || zfsAnswers() : await ensureZfs();
  if (hasPulumiCli()) {
    console.log(`kvmshare sandbox: pulumi CLI found, using the Automation API (state in ${sandboxDir}/.pulumi)`);
    await withAutomationApi(withZfs);
  } else {
    console.log(`kvmshare sandbox: FALLBACK: no pulumi CLI on PATH (run scripts/setup.sh to build it); using kvmshare's in-process engine instead of the real one (state in ${sandboxDir}/state.json)`);
    await withInProcessEngine(withZfs);
  }
  if (command === "destroy" && process.exitCode === undefined) stopOwnZfs();
}

main().catch((e) => {
  console.error(`sandbox: ${(e as Error).message}`);
  process.exit(1);
});
