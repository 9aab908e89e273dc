/**
 * `npm run sandbox [-- up|preview|refresh|destroy] [--refresh]`: run the quick-start stack.
 *
 * With the `pulumi` CLI on the PATH it uses the Automation API (LocalWorkspace, file backend in
 * `.sandbox/.pulumi`); without it, the in-process engine the tests use (test/harness), which
 * calls the same dynamic providers for real. It says which one it used.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const root = path.resolve(__dirname, "..");
const sandboxDir = path.resolve(process.env.KVMSHARE_SANDBOX ?? path.join(root, ".sandbox"));
const args = process.argv.slice(2);
const command = args.find((a) => !a.startsWith("-")) ?? "up";
const refresh = args.includes("--refresh");

function hasPulumiCli(): boolean {
  try {
    execFileSync("pulumi", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function withAutomationApi(): Promise<void> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  const backend = path.join(sandboxDir, ".pulumi");
  fs.mkdirSync(backend, { recursive: true });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "sandbox", workDir: root },
    { envVars: { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "sandbox" } },
  );
  await stack.setConfig("sandboxDir", { value: sandboxDir });
  const onOutput = (s: string) => process.stdout.write(s);
  if (command === "up") await stack.up({ onOutput, refresh });
  else if (command === "preview") await stack.preview({ onOutput, refresh, expectNoChanges: refresh });
  else if (command === "refresh") await stack.refresh({ onOutput });
  else if (command === "destroy") await stack.destroy({ onOutput });
  else throw new Error(`unknown command '${command}' (use up, preview, refresh or destroy)`);
}

async function withInProcessEngine(): Promise<void> {
  // ts-node resolves the harness and the components from sources.
  const { Engine } = await import("../test/harness/engine");
  const { quickstart } = await import("../quickstart/stack");
  const engine = new Engine({ stateFile: path.join(sandboxDir, "state.json"), project: "kvmshare-quickstart", stack: "sandbox" });
  const program = () => {
    quickstart(sandboxDir);
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
  if (result.errors.length) {
    console.error(result.errors.join("\n"));
    process.exitCode = 1;
  } else if (command === "preview" && refresh && changes > 0) {
    console.error("preview --refresh: the sandbox drifted from the program (like --expect-no-changes)");
    process.exitCode = 2;
  }
}

async function main(): Promise<void> {
  fs.mkdirSync(sandboxDir, { recursive: true });
  if (hasPulumiCli()) {
    console.log(`kvmshare sandbox: pulumi CLI found, using the Automation API (state in ${sandboxDir}/.pulumi)`);
    await withAutomationApi();
  } else {
    console.log(`kvmshare sandbox: no pulumi CLI on PATH, using kvmshare's in-process engine (state in ${sandboxDir}/state.json)`);
    await withInProcessEngine();
  }
}

main().catch((e) => {
  console.error(`sandbox: ${(e as Error).message}`);
  process.exit(1);
});
