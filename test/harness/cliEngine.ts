/**
 * The real Pulumi engine behind the in-process engine's interface: the same
 * `up(program)`, `preview(program, { refresh })`, `refresh()`, `destroy()` and `state()`, the
 * same `RunResult`, so a test moves from one to the other by its construction line.
 *
 * The program is an Automation API *inline program*: it runs in the test process (closures,
 * fixtures and all), the CLI's engine plans and runs the steps, and the dynamic providers run in
 * the CLI's `pulumi-resource-pulumi-nodejs` plugin, which loads kvmshare's provider from this
 * checkout (`loadProviderImpl` in core/hostResource.ts walks up from the project directory to
 * kvmshare's package.json), exactly as the quick start does. State is a file backend next to
 * the test's `stateFile` (in the test's temp directory); the project directory (Pulumi.yaml and
 * the stack settings) is a directory under `<checkout>/.test-stacks/`, removed at exit.
 *
 * What differs from the in-process engine, as in real Pulumi: `preview({ refresh: true })` does
 * not store what it read (call `refresh()` for that); the first failing resource stops the run.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { offlinePulumiEnv } from "../../core/pulumiEnv";
import type { EngineOptions, RunResult, StoredResource } from "./engine";
import { requirePulumiCli, runOperation } from "./realEngine";

const ROOT = path.resolve(__dirname, "../..");
const STACKS = path.join(ROOT, ".test-stacks");
const PASSPHRASE = "kvmshare-test";
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";

const workDirs = new Set<string>();

/**
 * A program that throws fails the run, and the engine reports it; the inline program's runtime
 * also leaves the rejection of the stack's outputs (and of registrations cut off by the engine's
 * shutdown, "Resource monitor is terminating": a component's `registerOutputs` still pending when
 * the first failing resource stops the run) unhandled, after the operation returned. Those are
 * kept here instead of failing the test file: the ones an operation already reported are
 * dropped, any other lands in the next operation's `errors`.
 *
 * Jest fails a test file for a rejection nobody handles, even one that arrives after the last
 * test, and a test file's `process` is Jest's copy (a listener on it hears nothing). So the
 * listener goes on the real process (`__hostProcess`, given by test/harness/nodeEnvironment.js),
 * from inside each operation (Jest swaps the real process's listeners while a file runs), and it
 * marks each rejection it takes handled (`promise.catch`): Node then emits `rejectionHandled`,
 * and Jest forgets the rejection.
 */
const reported: string[] = [];
const stray: string[] = [];
const realProcess: NodeJS.Process = (globalThis as { __hostProcess?: NodeJS.Process }).__hostProcess ?? process;
function onRejection(e: unknown, promise: Promise<unknown>): void {
  promise.catch(() => undefined);
  const msg = e instanceof Error ? e.message : String(e);
  if (!/Resource monitor is terminating/.test(msg)) stray.push(`program: ${msg}`);
}
function watchRejections(): void {
  if (!realProcess.listeners("unhandledRejection").includes(onRejection)) realProcess.on("unhandledRejection", onRejection);
}
watchRejections();
realProcess.once("exit", () => {
  for (const d of workDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Decrypts values of a stack whose secrets provider is the passphrase (Pulumi's `v1:` format). */
class PassphraseCrypter {
  private readonly key: Buffer;
  constructor(salt: string) {
    // "v1:<salt>:v1:<nonce>:<ciphertext>", the key is PBKDF2-SHA256 (1e6 rounds) of the passphrase.
    const raw = Buffer.from(salt.split(":")[1], "base64");
    this.key = crypto.pbkdf2Sync(PASSPHRASE, raw, 1_000_000, 32, "sha256");
  }

  decrypt(text: string): string {
    const [v, nonce, body] = text.split(":");
    if (v !== "v1") throw new Error(`unknown ciphertext version '${v}' in stack state`);
    const ct = Buffer.from(body, "base64");
    const d = crypto.createDecipheriv("aes-256-gcm", this.key, Buffer.from(nonce, "base64"));
    d.setAuthTag(ct.subarray(ct.length - 16));
    return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]).toString("utf8");
  }
}

interface Checkpoint {
  checkpoint?: {
    latest?: {
      secrets_providers?: { type: string; state?: { salt?: string } };
      resources?: { type: string; urn: string; id?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[];
    };
  };
}

export class CliEngine {
  private readonly backendDir: string;
  private readonly workDir: string;
  private readonly env: Record<string, string>;
  private stackP: Promise<Stack> | undefined;
  private crypter: PassphraseCrypter | undefined;
  /** Everything the engine printed in the last operation. */
  lastOutput = "";

  constructor(private readonly opts: EngineOptions) {
    requirePulumiCli();
    this.backendDir = `${opts.stateFile}.pulumi`;
    fs.mkdirSync(this.backendDir, { recursive: true });
    fs.mkdirSync(STACKS, { recursive: true });
    this.workDir = fs.mkdtempSync(path.join(STACKS, `${path.basename(opts.stateFile, ".json")}-`));
    workDirs.add(this.workDir);
    this.env = {
      ...offlinePulumiEnv({ backendDir: this.backendDir, home: path.join(STACKS, ".home"), passphrase: PASSPHRASE }),
      KVMSHARE_QUIET: process.env.KVMSHARE_QUIET ?? "1",
    };
  }

  private stack(): Promise<Stack> {
    this.stackP ??= LocalWorkspace.createOrSelectStack(
      { stackName: this.opts.stack ?? "test", projectName: this.opts.project ?? "kvmshare-test", program: async () => undefined },
      { workDir: this.workDir, envVars: this.env },
    );
    return this.stackP;
  }

  private async op(what: string, fn: (s: Stack, onEvent: Parameters<Parameters<typeof runOperation>[1]>[0], onOutput: (t: string) => void) => Promise<unknown>): Promise<RunResult> {
    const s = await this.stack();
    watchRejections();
    const { result, output } = await runOperation(what, (onEvent, onOutput) => fn(s, onEvent, onOutput));
    this.lastOutput = output;
    // Rejections the runtime left unhandled since the last operation and that no operation
    // reported: they belong to this test, so they fail its checks on `errors`.
    result.errors.push(...stray.splice(0).filter((e) => !reported.some((r) => r.includes(e.split("\n")[0]))));
    reported.push(...result.errors);
    return result;
  }

  /**
   * The program as an inline program: what it returns is not a stack output. An exception is
   * reported to the engine as an error (the run fails with its message, as a throwing program's
   * does) instead of escaping into jest, where the runtime would rethrow it after the run.
   */
  private static inline(program: () => unknown): () => Promise<void> {
    return async () => {
      try {
        await program();
      } catch (e) {
        await pulumi.log.error(`program failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
    };
  }

  /** `pulumi up` (optionally `--refresh`): make the hosts match the program. */
  up(program: () => unknown, opts: { refresh?: boolean } = {}): Promise<RunResult> {
    return this.op("up", (s, onEvent, onOutput) => s.up({ program: CliEngine.inline(program), onEvent, onOutput, diff: true, refresh: opts.refresh }));
  }

  /** `pulumi preview` (optionally `--refresh`, which reads the hosts but stores nothing). */
  preview(program: () => unknown, opts: { refresh?: boolean } = {}): Promise<RunResult> {
    return this.op("preview", (s, onEvent, onOutput) => s.preview({ program: CliEngine.inline(program), onEvent, onOutput, diff: true, refresh: opts.refresh }));
  }

  /** `pulumi refresh`: read every resource back from its host into state. */
  refresh(): Promise<RunResult> {
    return this.op("refresh", (s, onEvent, onOutput) => s.refresh({ onEvent, onOutput }));
  }

  /** `pulumi destroy`. */
  destroy(): Promise<RunResult> {
    return this.op("destroy", (s, onEvent, onOutput) => s.destroy({ onEvent, onOutput }));
  }

  /** Every file of the backend (state, its backups and history), as text. */
  storedText(): string {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out.push((e.name.endsWith(".gz") ? zlib.gunzipSync(fs.readFileSync(p)) : fs.readFileSync(p)).toString("utf8"));
      }
    };
    if (fs.existsSync(this.backendDir)) walk(this.backendDir);
    return out.join("\n");
  }

  /** The host resources in the stack's state (the backend's file, read as is), secrets decrypted. */
  state(): StoredResource[] {
    const dir = path.join(this.backendDir, ".pulumi", "stacks", this.opts.project ?? "kvmshare-test");
    const file = path.join(dir, `${this.opts.stack ?? "test"}.json`);
    if (!fs.existsSync(file)) return [];
    const latest = (JSON.parse(fs.readFileSync(file, "utf8")) as Checkpoint).checkpoint?.latest;
    const salt = latest?.secrets_providers?.state?.salt;
    const secretKeys = new Set<string>();
    const open = (v: unknown, key: string): unknown => {
      if (Array.isArray(v)) return v.map((x) => open(x, key));
      if (!v || typeof v !== "object") return v;
      const o = v as Record<string, unknown>;
      if (SECRET_SIG_KEY in o) {
        secretKeys.add(key);
        if (!salt) throw new Error(`stack state in ${file} holds a secret but no passphrase salt`);
        this.crypter ??= new PassphraseCrypter(salt);
        return JSON.parse(this.crypter.decrypt(o.ciphertext as string));
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, open(x, key)]));
    };
    const openAll = (props: Record<string, unknown> = {}) => Object.fromEntries(Object.entries(props).map(([k, v]) => [k, open(v, k)]));
    return (latest?.resources ?? [])
      .filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"))
      .map((r) => {
        secretKeys.clear();
        const inputs = openAll(r.inputs);
        const outputs = openAll(r.outputs);
        return { type: r.type, name: r.urn.split("::").pop() as string, id: r.id ?? "", inputs, outputs, secretKeys: [...secretKeys] };
      });
  }
}
