/**
 * The real Pulumi engine for tests: the CLI built by scripts/pulumi-cli.sh, driven through the
 * Automation API, with the same result shape as the in-process engine (`Engine` in engine.ts),
 * so a scenario reads the same on both. A project is a directory with a Pulumi.yaml; a test
 * either runs the repository's own (the quick start) or a copy of an example made by
 * `projectFromDir`, whose node_modules holds kvmshare as users install it (the `npm pack`
 * tarball) and the repository's other packages by symlink.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { offlinePulumiEnv } from "../../core/pulumiEnv";
import type { Op, RunResult, Step } from "./engine";

const ROOT = path.resolve(__dirname, "../..");

/** The CLI, or a loud failure: the real-engine tests never skip. */
export function requirePulumiCli(): string {
  const r = spawnSync("pulumi", ["version"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
  if (r.status !== 0) {
    throw new Error(
      "\n==== MISSING PROGRAM: pulumi ====\nThe real-engine tests need the Pulumi CLI; `bash scripts/setup.sh` builds it from Go modules (scripts/pulumi-cli.sh).\n",
    );
  }
  return r.stdout.trim();
}

export interface RealEngineOptions {
  /** The project directory (holds Pulumi.yaml). */
  workDir: string;
  /** Stack name. @default "test" */
  stack?: string;
  /** File backend directory. @default a temp dir, removed by `remove()` */
  backendDir?: string;
  /** Stack config: plain values, or `{ secret }` for secrets. */
  config?: Record<string, string | { secret: string }>;
  /** The stack's secrets provider when it is created (`hashivault://key`...). @default the passphrase provider */
  secretsProvider?: string;
  /** More environment for the CLI (e.g. VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT). */
  env?: Record<string, string>;
}

const CHANGE_OPS = new Set(["create", "update", "replace", "delete", "create-replacement", "delete-replaced", "import"]);

/** JSON with keys in canonical order (the engine sorts the keys of what it stores). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

/**
 * The inputs that differ between a step's old and new state, by path (`spec.content`,
 * `spec.properties.atime`, `connection.host`): the dynamic-provider host does not pass the
 * provider's own `diffs` to the engine, and after a refresh the old inputs are the host's
 * (`read` projects what it observed into the spec), so a drifted field shows here.
 */
export function inputPaths(olds: Record<string, unknown> = {}, news: Record<string, unknown> = {}, prefix = ""): string[] {
  const out: string[] = [];
  const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
  for (const k of [...new Set([...Object.keys(olds), ...Object.keys(news)])].sort()) {
    if (k === "__provider" && !prefix) continue;
    const a = olds[k];
    const b = news[k];
    if (canonical(a) === canonical(b)) continue;
    // Down to the changed leaf (`spec.properties.atime`); secrets only by their key.
    if (isMap(a) && isMap(b) && !(k === "secrets" && !prefix)) out.push(...inputPaths(a, b, `${prefix}${k}.`));
    else out.push(`${prefix}${k}`);
  }
  return out;
}

/**
 * Run one Automation API operation and translate the engine's events into the in-process
 * engine's result shape: a step per host resource (its op and the diffed properties), the
 * outputs of each, and the errors (diagnostics, or the failure of the command itself).
 */
export async function runOperation(
  what: string,
  fn: (onEvent: (e: EngineEvent) => void, onOutput: (t: string) => void) => Promise<unknown>,
): Promise<{ result: RunResult; output: string }> {
  const byUrn = new Map<string, Step>();
  const outputs: Record<string, Record<string, unknown>> = {};
  const errors: string[] = [];
  const warnings: string[] = [];
  let out = "";
  const onEvent = (e: EngineEvent) => {
    const m = e.resourcePreEvent?.metadata ?? e.resOutputsEvent?.metadata;
    // Host resources only, as the in-process engine reports them (components and the default
    // provider have no host side).
    if (m && m.type.startsWith("pulumi-nodejs:dynamic/")) {
      const name = m.urn.split("::").pop() as string;
      const prev = byUrn.get(m.urn);
      // A refresh step is followed by the plan's own step for the same resource: keep the plan's.
      if (!prev || prev.op === "refresh" || m.op !== "same") {
        const changed = m.op === "update" || m.op === "replace" ? inputPaths(m.old?.inputs, m.new?.inputs) : [];
        byUrn.set(m.urn, { op: m.op as Op, type: m.type, name, diffs: changed.length ? changed : (m.diffs ?? prev?.diffs ?? []) });
      }
      const outs = m.new?.outputs;
      if (e.resOutputsEvent && outs) outputs[name] = outs as Record<string, unknown>;
    }
    if (e.diagnosticEvent?.severity === "error") errors.push(e.diagnosticEvent.message.trim());
    if (e.diagnosticEvent?.severity === "warning") warnings.push(e.diagnosticEvent.message.trim());
  };
  try {
    await fn(onEvent, (t: string) => (out += t));
  } catch (err) {
    const msg = (err as Error).message;
    if (!errors.some((x) => msg.includes(x))) errors.push(`${what}: ${msg}`);
  }
  const steps = [...byUrn.values()];
  return { result: { steps, changes: steps.filter((x) => CHANGE_OPS.has(x.op)), outputs, errors, warnings }, output: out };
}

export class RealEngine {
  readonly backendDir: string;
  readonly env: Record<string, string>;
  /** Everything the engine printed in the last operation (for secret checks and messages). */
  lastOutput = "";
  private stackP: Promise<Stack> | undefined;

  constructor(private readonly o: RealEngineOptions) {
    this.backendDir = o.backendDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "ks-pulumi-state-"));
    // The provider's progress and `differs:` lines land in lastOutput, for assertions and failures.
    this.env = { ...offlinePulumiEnv({ backendDir: this.backendDir, home: path.join(this.backendDir, ".home"), passphrase: "kvmshare-test" }), KVMSHARE_QUIET: "0", ...o.env };
  }

  stack(): Promise<Stack> {
    this.stackP ??= (async () => {
      const s = await LocalWorkspace.createOrSelectStack({ stackName: this.o.stack ?? "test", workDir: this.o.workDir }, { envVars: this.env, secretsProvider: this.o.secretsProvider });
      for (const [k, v] of Object.entries(this.o.config ?? {})) {
        await s.setConfig(k, typeof v === "string" ? { value: v } : { value: v.secret, secret: true });
      }
      return s;
    })();
    return this.stackP;
  }

  /** Run one operation and translate the engine's events into steps. */
  private async run(what: string, fn: (s: Stack, onEvent: (e: EngineEvent) => void, onOutput: (t: string) => void) => Promise<unknown>): Promise<RunResult> {
    const s = await this.stack();
    const { result, output } = await runOperation(what, (onEvent, onOutput) => fn(s, onEvent, onOutput));
    this.lastOutput = output;
    return result;
  }

  up(opts: { refresh?: boolean } = {}): Promise<RunResult> {
    return this.run("up", (s, onEvent, onOutput) => s.up({ onEvent, onOutput, refresh: opts.refresh, diff: true }));
  }

  preview(opts: { refresh?: boolean; expectNoChanges?: boolean } = {}): Promise<RunResult> {
    return this.run("preview", (s, onEvent, onOutput) => s.preview({ onEvent, onOutput, refresh: opts.refresh, diff: true, expectNoChanges: opts.expectNoChanges }));
  }

  refresh(): Promise<RunResult> {
    return this.run("refresh", (s, onEvent, onOutput) => s.refresh({ onEvent, onOutput }));
  }

  destroy(): Promise<RunResult> {
    return this.run("destroy", (s, onEvent, onOutput) => s.destroy({ onEvent, onOutput }));
  }

  /** The backend's files as stored on disk (state and its backups): secrets must be ciphertext there. */
  stateFiles(): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) {
          if (e.name !== ".home") walk(p);
        } else if (/\.json(\.bak|\.gz)?$|\.json\.attrs$/.test(e.name) || /history/.test(p)) out.push(p);
      }
    };
    walk(this.backendDir);
    return out;
  }

  /** The same stack (backend and state) run from another project directory. */
  from(workDir: string): RealEngine {
    return new RealEngine({ ...this.o, workDir, backendDir: this.backendDir });
  }

  /** Remove the backend (unless it was given) and the stack settings file written next to Pulumi.yaml. */
  remove(): void {
    if (!this.o.backendDir) fs.rmSync(this.backendDir, { recursive: true, force: true });
    fs.rmSync(path.join(this.o.workDir, `Pulumi.${this.o.stack ?? "test"}.yaml`), { force: true });
  }

  /** For an afterAll: destroy what the stack made (a failure there is the test's, not the clean-up's), then remove. */
  async dispose(): Promise<void> {
    await this.destroy().catch(() => undefined);
    this.remove();
  }
}

/** Files that make up the published package (what `npm pack` would put in the tarball). */
function packageSourcesHash(root: string): string {
  const files = execFileSync("git", ["-C", root, "ls-files", "-co", "--exclude-standard", "core", "components", "transfer", "perf", "cli", "templates", "index.ts", "package.json", "tsconfig.json", "tsconfig.build.json"], { encoding: "utf8" })
    .split("\n")
    .filter((f) => f && fs.existsSync(path.join(root, f)))
    .sort();
  const h = crypto.createHash("sha256");
  for (const f of files) h.update(f).update("\0").update(fs.readFileSync(path.join(root, f)));
  return h.digest("hex").slice(0, 16);
}

/**
 * `npm pack` of a kvmshare checkout (its `prepare` builds dist/), cached by the sources' hash
 * so a test run packs once. Returns the tarball's path.
 */
export function packKvmshare(root: string = ROOT): string {
  const cache = path.join(os.tmpdir(), "kvmshare-pack");
  fs.mkdirSync(cache, { recursive: true });
  const tarball = path.join(cache, `kvmshare-${packageSourcesHash(root)}.tgz`);
  if (fs.existsSync(tarball)) return tarball;
  const dest = fs.mkdtempSync(path.join(cache, "tmp-"));
  const r = spawnSync("npm", ["pack", "--pack-destination", dest, "--ignore-scripts=false"], { cwd: root, encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) throw new Error(`npm pack in ${root} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const made = fs.readdirSync(dest).find((f) => f.endsWith(".tgz"));
  if (!made) throw new Error(`npm pack in ${root} made no tarball:\n${r.stdout}`);
  fs.renameSync(path.join(dest, made), tarball);
  fs.rmSync(dest, { recursive: true, force: true });
  return tarball;
}

/**
 * Install a kvmshare tarball into `projectDir/node_modules/kvmshare` the way npm lays out a
 * dependency, and link the repository's other packages beside it (no registry needed).
 */
export function installKvmshare(projectDir: string, tarball: string): void {
  const nm = path.join(projectDir, "node_modules");
  fs.mkdirSync(nm, { recursive: true });
  const dest = path.join(nm, "kvmshare");
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest);
  execFileSync("tar", ["-xzf", tarball, "-C", dest, "--strip-components=1"]);
  for (const entry of fs.readdirSync(path.join(ROOT, "node_modules"))) {
    if (entry === "kvmshare" || entry.startsWith(".")) continue;
    const link = path.join(nm, entry);
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(ROOT, "node_modules", entry), link);
  }
}

/** A copy of a project directory (e.g. `examples/nfs-share`) in a temp dir, with kvmshare installed from `tarball`. */
export function projectFromDir(src: string, tarball: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ks-project-${path.basename(src)}-`));
  for (const f of fs.readdirSync(src)) {
    if (f === "node_modules") continue;
    fs.cpSync(path.join(src, f), path.join(dir, f), { recursive: true });
  }
  installKvmshare(dir, tarball);
  return dir;
}
