/**
 * An in-process Pulumi engine for tests (there is no Pulumi CLI on this machine).
 *
 * It runs a Pulumi program under `pulumi.runtime.setMocks`, and for every dynamic resource it
 * does what the real engine + dynamic-provider host do: deserialize the provider stored in
 * `__provider`, call `check`, `diff` against the stored outputs, `create`/`update`/replace,
 * keep state in a JSON file between runs, `delete` resources no longer declared, `read` on
 * refresh, and nothing on the host during `preview`. Secret inputs are stored encrypted in the
 * state file (as Pulumi's own state does), so tests can prove no secret lands there in plain text.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings");

const PROVIDER_KEY = "__provider";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export type Op = "create" | "update" | "replace" | "delete" | "same" | "refresh";

export interface Step {
  op: Op;
  type: string;
  name: string;
  /** Property paths that differ (diff's `diffs`), or the properties refresh saw change. */
  diffs: string[];
}

export interface RunResult {
  steps: Step[];
  /** Steps that change something (everything but `same`, and refresh steps that saw no change). */
  changes: Step[];
  /** Outputs of every dynamic resource after the run, by resource name. */
  outputs: Record<string, Record<string, unknown>>;
  /** Check failures and provider errors. */
  errors: string[];
  /** The engine's warnings (real engine only: the in-process engine leaves `pulumi.log.warn` to console.warn). */
  warnings?: string[];
}

export interface StoredResource {
  type: string;
  name: string;
  id: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  /** Top-level keys whose value was secret. */
  secretKeys: string[];
}

interface StateFile {
  resources: StoredResource[];
}

type Provider = {
  check?: (olds: unknown, news: unknown) => Promise<{ inputs?: Record<string, unknown>; failures?: { property: string; reason: string }[] }>;
  diff?: (id: string, olds: unknown, news: unknown) => Promise<{ changes?: boolean; replaces?: string[]; diffs?: string[] }>;
  create: (inputs: unknown) => Promise<{ id: string; outs?: Record<string, unknown> }>;
  read?: (id: string, props: unknown) => Promise<{ id?: string; props?: Record<string, unknown>; inputs?: Record<string, unknown> }>;
  update?: (id: string, olds: unknown, news: unknown) => Promise<{ outs?: Record<string, unknown> }>;
  delete?: (id: string, props: unknown) => Promise<void>;
};

const providerCache = new Map<string, Provider>();

/** Deserialize a provider the way `@pulumi/pulumi/cmd/dynamic-provider` does (require-from-string). */
export function loadProvider(source: string): Provider {
  let p = providerCache.get(source);
  if (!p) {
    const mod = { exports: {} as { handler: () => Provider } };
    new Function("module", "exports", "require", source)(mod, mod.exports, require);
    p = mod.exports.handler();
    providerCache.set(source, p);
  }
  return p;
}

function isSecretValue(v: unknown): v is { [SIG_KEY]: string; value: unknown } {
  return !!v && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Unwrap secrets (the provider host does not accept secrets), remembering which keys were. */
function unwrap(inputs: Record<string, unknown>): { plain: Record<string, unknown>; secretKeys: string[] } {
  const secretKeys: string[] = [];
  const deep = (v: unknown): unknown => {
    if (isSecretValue(v)) return deep(v.value);
    if (Array.isArray(v)) return v.map(deep);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
    return v;
  };
  const hasSecret = (v: unknown): boolean =>
    isSecretValue(v) || (Array.isArray(v) ? v.some(hasSecret) : !!v && typeof v === "object" && Object.values(v).some(hasSecret));
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) {
    if (hasSecret(v)) secretKeys.push(k);
    plain[k] = deep(v);
  }
  return { plain, secretKeys };
}

export interface EngineOptions {
  /** Where state is kept between runs. */
  stateFile: string;
  project?: string;
  stack?: string;
}

/** See the file comment. One engine per stack (state file). */
export class Engine {
  private readonly key: Buffer;
  constructor(private readonly opts: EngineOptions) {
    // Per-state-file key, like a stack's secrets provider: the state file never holds plain secrets.
    const keyFile = `${opts.stateFile}.key`;
    if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, crypto.randomBytes(32), { mode: 0o600 });
    this.key = fs.readFileSync(keyFile);
  }

  private encrypt(value: unknown): string {
    const iv = crypto.randomBytes(12);
    const c = crypto.createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([c.update(JSON.stringify(value), "utf8"), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString("base64");
  }

  private decrypt(text: string): unknown {
    const raw = Buffer.from(text, "base64");
    const d = crypto.createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString("utf8"));
  }

  private seal(obj: Record<string, unknown>, secretKeys: string[]): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, secretKeys.includes(k) ? { ciphertext: this.encrypt(v) } : v]),
    );
  }

  private open(obj: Record<string, unknown>, secretKeys: string[]): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, secretKeys.includes(k) ? this.decrypt((v as { ciphertext: string }).ciphertext) : v]),
    );
  }

  /** The resources in state, secrets decrypted. */
  state(): StoredResource[] {
    if (!fs.existsSync(this.opts.stateFile)) return [];
    const file = JSON.parse(fs.readFileSync(this.opts.stateFile, "utf8")) as StateFile;
    return file.resources.map((r) => ({ ...r, inputs: this.open(r.inputs, r.secretKeys), outputs: this.open(r.outputs, r.secretKeys) }));
  }

  /** The state file as stored on disk. */
  storedText(): string {
    return fs.existsSync(this.opts.stateFile) ? fs.readFileSync(this.opts.stateFile, "utf8") : "";
  }

  private save(resources: StoredResource[]): void {
    const file: StateFile = {
      resources: resources.map((r) => ({ ...r, inputs: this.seal(r.inputs, r.secretKeys), outputs: this.seal(r.outputs, r.secretKeys) })),
    };
    const tmp = `${this.opts.stateFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(file, null, 2));
    fs.renameSync(tmp, this.opts.stateFile);
  }

  /** `pulumi up` (optionally `--refresh`): make the hosts match the program. */
  async up(program: () => unknown, opts: { refresh?: boolean } = {}): Promise<RunResult> {
    const refreshed = opts.refresh ? await this.refresh() : undefined;
    const result = await this.run(program, false);
    if (refreshed) result.errors.unshift(...refreshed.errors);
    return result;
  }

  /** `pulumi preview` (optionally `--refresh`): what `up` would do, without touching any host. */
  async preview(program: () => unknown, opts: { refresh?: boolean } = {}): Promise<RunResult> {
    const refreshed = opts.refresh ? await this.refresh() : undefined;
    const result = await this.run(program, true);
    if (refreshed) result.errors.unshift(...refreshed.errors);
    return result;
  }

  /** `pulumi refresh`: read every resource back from its host into state. */
  async refresh(): Promise<RunResult> {
    const resources = this.state();
    const steps: Step[] = [];
    const errors: string[] = [];
    for (const r of resources) {
      const provider = loadProvider(r.outputs[PROVIDER_KEY] as string);
      if (!provider.read) continue;
      try {
        const got = await provider.read(r.id, r.outputs);
        const props: Record<string, unknown> = { ...(got.props ?? r.outputs), [PROVIDER_KEY]: r.outputs[PROVIDER_KEY] };
        const changed = Object.keys({ ...props, ...r.outputs }).filter(
          (k) => JSON.stringify(props[k]) !== JSON.stringify(r.outputs[k]),
        );
        steps.push({ op: "refresh", type: r.type, name: r.name, diffs: changed });
        r.outputs = props;
        if (got.inputs) r.inputs = { ...got.inputs, [PROVIDER_KEY]: r.outputs[PROVIDER_KEY] };
      } catch (e) {
        errors.push(`${r.name}: refresh: ${(e as Error).message}`);
      }
    }
    this.save(resources);
    return this.result(steps, errors, resources);
  }

  /** `pulumi destroy`: delete every resource, last created first. */
  async destroy(): Promise<RunResult> {
    const resources = this.state();
    const steps: Step[] = [];
    const errors: string[] = [];
    for (const r of [...resources].reverse()) {
      try {
        await loadProvider(r.outputs[PROVIDER_KEY] as string).delete?.(r.id, r.outputs);
        steps.push({ op: "delete", type: r.type, name: r.name, diffs: [] });
        resources.splice(resources.indexOf(r), 1);
      } catch (e) {
        errors.push(`${r.name}: delete: ${(e as Error).message}`);
      }
    }
    this.save(resources);
    return this.result(steps, errors, resources);
  }

  private result(steps: Step[], errors: string[], resources: StoredResource[]): RunResult {
    return {
      steps,
      changes: steps.filter((s) => s.op !== "same" && !(s.op === "refresh" && s.diffs.length === 0)),
      outputs: Object.fromEntries(resources.map((r) => [r.name, r.outputs])),
      errors: [...new Set(errors)],
    };
  }

  private async run(program: () => unknown, preview: boolean): Promise<RunResult> {
    const prior = this.state();
    const next: StoredResource[] = [];
    const steps: Step[] = [];
    const errors: string[] = [];
    const seen = new Set<string>();
    let inflight = 0;
    let lastActivity = Date.now();
    const engine = this;

    await pulumi.runtime.setMocks(
      {
        async newResource(args: pulumi.runtime.MockResourceArgs) {
          if (!args.type.startsWith("pulumi-nodejs:dynamic")) {
            return { id: args.custom ? `${args.name}-id` : undefined, state: args.inputs };
          }
          const key = `${args.type}::${args.name}`;
          seen.add(key);
          inflight++;
          lastActivity = Date.now();
          try {
            return await engine.step(args, prior, next, steps, preview);
          } catch (e) {
            // Recorded and reported in the result (the real engine fails the update); the
            // program goes on so every problem of the run is reported at once.
            errors.push(`${args.name}: ${(e as Error).message}`);
            // A failed update leaves the resource as it was in state (as the real engine does),
            // instead of dropping it (which made the next run create it again).
            const old = prior.find((r) => r.type === args.type && r.name === args.name);
            if (old && !next.some((r) => r.type === old.type && r.name === old.name)) next.push(old);
            return { id: `${args.name}-failed`, state: {} };
          } finally {
            inflight--;
            lastActivity = Date.now();
          }
        },
        call(args: pulumi.runtime.MockCallArgs) {
          return args.inputs;
        },
      },
      this.opts.project ?? "kvmshare-test",
      this.opts.stack ?? "test",
      preview,
    );

    // An `apply` callback that throws fails the program, as under the real engine: record it
    // instead of letting the rejection crash the process.
    const onRejection = (e: unknown) => errors.push(`program: ${e instanceof Error ? e.message : String(e)}`);
    process.on("unhandledRejection", onRejection);
    try {
      await program();
    } catch (e) {
      errors.push(`program: ${(e as Error).message}`);
    }
    // Wait until every registration (including ones made inside apply callbacks) settled. When
    // a resource failed, the ones that wait on its outputs never register: once nothing has
    // moved for a while after an error, the run is over (the real engine stops there too).
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      for (let settled = 0; settled < 50; ) {
        const done = await Promise.race([
          settings.waitForRPCs().then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 250)),
        ]);
        await new Promise((r) => setImmediate(r));
        if (done) settled++;
        else if (errors.length && inflight === 0 && Date.now() - lastActivity > 3000) break;
      }
    } finally {
      clearInterval(keepAlive);
    }

    process.off("unhandledRejection", onRejection);
    // Resources that left the program are deleted (last created first), as `pulumi up` does.
    const gone = prior.filter((r) => !seen.has(`${r.type}::${r.name}`));
    for (const r of [...gone].reverse()) {
      steps.push({ op: "delete", type: r.type, name: r.name, diffs: [] });
      if (preview) {
        next.push(r);
        continue;
      }
      try {
        await loadProvider(r.outputs[PROVIDER_KEY] as string).delete?.(r.id, r.outputs);
      } catch (e) {
        errors.push(`${r.name}: delete: ${(e as Error).message}`);
        next.push(r);
      }
    }
    if (!preview) this.save(next);
    return this.result(steps, errors, preview ? [...prior] : next);
  }

  private async step(
    args: pulumi.runtime.MockResourceArgs,
    prior: StoredResource[],
    next: StoredResource[],
    steps: Step[],
    preview: boolean,
  ): Promise<{ id: string; state: Record<string, unknown> }> {
    const { plain: news, secretKeys } = unwrap(args.inputs);
    const provider = loadProvider(news[PROVIDER_KEY] as string);
    const old = prior.find((r) => r.type === args.type && r.name === args.name);
    const checked = provider.check ? await provider.check(old?.inputs ?? {}, news) : { inputs: news };
    if (checked.failures?.length) {
      throw new Error(`check failed:\n${checked.failures.map((f) => `  - ${f.reason}`).join("\n")}`);
    }
    const inputs = { ...(checked.inputs ?? news), [PROVIDER_KEY]: news[PROVIDER_KEY] };
    const record = (op: Op, diffs: string[], id: string, outputs: Record<string, unknown>) => {
      steps.push({ op, type: args.type, name: args.name, diffs });
      const outs = { ...outputs, [PROVIDER_KEY]: news[PROVIDER_KEY] };
      const keys = [...new Set([...secretKeys, ...(old?.secretKeys ?? [])])].filter((k) => k in outs || k in inputs);
      next.push({ type: args.type, name: args.name, id, inputs, outputs: outs, secretKeys: keys });
      // Echo secretness back to the program, as the real engine does.
      const state = Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, keys.includes(k) ? pulumi.secret(v) : v]));
      return { id, state };
    };

    if (!old) {
      if (preview) return record("create", [], "preview-id", inputs);
      const created = await provider.create(inputs);
      return record("create", [], created.id, created.outs ?? inputs);
    }
    const d = provider.diff ? await provider.diff(old.id, old.outputs, inputs) : { changes: true, replaces: [], diffs: [] };
    const diffs = d.diffs ?? [];
    if (!d.changes) return record("same", [], old.id, old.outputs);
    if (d.replaces && d.replaces.length) {
      if (preview) return record("replace", [...d.replaces, ...diffs], old.id, old.outputs);
      await provider.delete?.(old.id, old.outputs);
      const created = await provider.create(inputs);
      return record("replace", [...d.replaces, ...diffs], created.id, created.outs ?? inputs);
    }
    if (preview) return record("update", diffs, old.id, old.outputs);
    const updated = provider.update ? await provider.update(old.id, old.outputs, inputs) : { outs: inputs };
    return record("update", diffs, old.id, updated.outs ?? inputs);
  }
}
