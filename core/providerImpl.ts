/**
 * The implementation behind every host-side dynamic resource. The serialized provider
 * (hostResource.ts) only `require()`s this file and the kind's module by path and forwards
 * the call, so what is stored in Pulumi state stays tiny and serializable.
 *
 * Inputs:  { connection, spec, secrets? }
 * Outputs: { connection, spec, secrets?, observed, kind, kindVersion, ...kind.outputs }
 * `read` re-probes the host; `diff` compares what the new inputs render to with what was
 * observed, so a hand edit on the host shows up after refresh.
 */
import { connect, ConnectionSpec, Host } from "./connection";
import { formatProblem, Problem, redact } from "./errors";
import { compareObserved, HostKind, Json, State } from "./hostKind";
import { isUnknown } from "./validate";

type AnyKind = HostKind<Record<string, unknown>, State>;

export interface HostInputs {
  connection?: ConnectionSpec;
  spec: Record<string, unknown>;
  secrets?: Record<string, string>;
  [k: string]: unknown;
}

export interface HostOutputs extends HostInputs {
  observed: State | null;
  kind: string;
  kindVersion: number;
}

function loadKind(kindPath: string): AnyKind {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(kindPath);
  if (!mod.kind) throw new Error(`kvmshare: ${kindPath} does not export a 'kind'`);
  return mod.kind as AnyKind;
}

/** True when any value inside is not known yet (preview of a resource whose inputs are outputs). */
export function containsUnknown(v: unknown): boolean {
  if (isUnknown(v)) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

function secretValues(secrets: Record<string, string> | undefined): string[] {
  return Object.values(secrets ?? {}).filter((s): s is string => typeof s === "string" && s.length > 0);
}

/** Blank out any secret that a kind let slip into state (defence in depth). */
function scrub<T>(value: T, secrets: string[]): T {
  if (!secrets.length) return value;
  return JSON.parse(redact(JSON.stringify(value ?? null), secrets.map((s) => JSON.stringify(s).slice(1, -1))));
}

function logger(kind: AnyKind, secrets: string[]): (m: string) => void {
  return (m: string) => {
    if (process.env.KVMSHARE_QUIET !== "1") process.stderr.write(`[kvmshare ${kind.name}] ${redact(m, secrets)}\n`);
  };
}

async function withKindHost<T>(inputs: HostInputs, fn: (host: Host) => Promise<T>): Promise<T> {
  const host = await connect(inputs.connection);
  try {
    return await fn(host);
  } catch (e) {
    // Errors cross the provider boundary as text: make sure no secret rides along.
    const err = e as Error;
    err.message = redact(err.message, secretValues(inputs.secrets));
    throw err;
  } finally {
    await host.close();
  }
}

function idOf(kind: AnyKind, spec: Record<string, unknown>): string {
  if (kind.id) return kind.id(spec);
  const key = spec.name ?? spec.path ?? spec.file;
  return `${kind.name}:${typeof key === "string" ? key : JSON.stringify(key ?? spec)}`;
}

function prefixed(problems: Problem[]): { property: string; reason: string }[] {
  return problems.map((p) => ({ property: p.field, reason: formatProblem(p) }));
}

export async function check(kindPath: string, _olds: HostInputs, news: HostInputs) {
  const kind = loadKind(kindPath);
  // A spec not known yet as a whole (it waits for another resource, e.g. packages) is checked at up.
  if (isUnknown(news.spec)) return { inputs: news, failures: [] };
  const problems = kind.validate(news.spec ?? {});
  if (!problems.length && kind.preflight && !containsUnknown(news.spec) && !containsUnknown(news.connection)) {
    problems.push(...(await withKindHost(news, (host) => kind.preflight!(host, news.spec))));
  }
  return { inputs: news, failures: prefixed(problems) };
}

async function observe(kind: AnyKind, host: Host, inputs: HostInputs): Promise<State | undefined> {
  return kind.probe(host, inputs.spec, inputs.secrets ?? {});
}

function outputsOf(kind: AnyKind, inputs: HostInputs, observed: State | undefined): HostOutputs {
  const secrets = secretValues(inputs.secrets);
  const extra = kind.outputs ? kind.outputs(inputs.spec, observed) : {};
  return {
    ...inputs,
    ...scrub(extra, secrets),
    observed: scrub(observed ?? null, secrets),
    kind: kind.name,
    kindVersion: kind.version,
  };
}

async function applyAndObserve(kind: AnyKind, inputs: HostInputs, previous?: HostOutputs): Promise<HostOutputs> {
  const secrets = inputs.secrets ?? {};
  const log = logger(kind, secretValues(secrets));
  const problems = kind.validate(inputs.spec);
  if (problems.length) throw new Error(`${kind.name}: invalid inputs:\n${problems.map((p) => "  - " + formatProblem(p)).join("\n")}`);
  return withKindHost(inputs, async (host) => {
    if (kind.preflight) {
      const pre = await kind.preflight(host, inputs.spec);
      if (pre.length) throw new Error(`${kind.name}: ${host.label} cannot apply this:\n${pre.map((p) => "  - " + formatProblem(p)).join("\n")}`);
    }
    const desired = kind.render(inputs.spec, secrets);
    const live = await observe(kind, host, inputs);
    await kind.apply(host, {
      spec: inputs.spec,
      desired,
      live,
      secrets,
      previous: previous ? { spec: previous.spec, observed: previous.observed ?? undefined, extra: previous as Record<string, Json | undefined> } : undefined,
      log,
    });
    return outputsOf(kind, inputs, await observe(kind, host, inputs));
  });
}

export async function create(kindPath: string, inputs: HostInputs) {
  const kind = loadKind(kindPath);
  const outs = await applyAndObserve(kind, inputs);
  return { id: idOf(kind, inputs.spec), outs };
}

export async function update(kindPath: string, _id: string, olds: HostOutputs, news: HostInputs) {
  const kind = loadKind(kindPath);
  return { outs: await applyAndObserve(kind, news, olds) };
}

export async function read(kindPath: string, id: string, props: HostOutputs) {
  const kind = loadKind(kindPath);
  const observed = await withKindHost(props, (host) => observe(kind, host, props));
  const outs = outputsOf(kind, props, observed);
  // The inputs as the host has them now, so `preview --refresh --diff` names the drifted field.
  const spec = observed && kind.project ? kind.project(props.spec, observed) : props.spec;
  const inputs: HostInputs = { connection: props.connection, spec };
  if (props.secrets !== undefined) inputs.secrets = props.secrets;
  return { id, props: outs, inputs };
}

export async function diff(kindPath: string, _id: string, olds: HostOutputs, news: HostInputs) {
  const kind = loadKind(kindPath);
  const replaces = [
    ...(JSON.stringify(olds.connection ?? null) !== JSON.stringify(news.connection ?? null) && !containsUnknown(news.connection)
      ? ["connection"]
      : []),
    ...(kind.replaceOn ?? []).filter((k) => JSON.stringify(olds.spec?.[k]) !== JSON.stringify(news.spec?.[k])).map((k) => `spec.${k}`),
  ];
  if (containsUnknown(news.spec) || containsUnknown(news.secrets)) {
    return { changes: true, replaces, deleteBeforeReplace: true, diffs: ["spec"] };
  }
  const diffs = new Set<string>();
  const specKeys = new Set([...Object.keys(olds.spec ?? {}), ...Object.keys(news.spec ?? {})]);
  for (const k of specKeys) {
    if (JSON.stringify(olds.spec?.[k]) !== JSON.stringify(news.spec?.[k])) diffs.add(`spec.${k}`);
  }
  if (JSON.stringify(olds.secrets ?? {}) !== JSON.stringify(news.secrets ?? {})) diffs.add("secrets");
  if (olds.kindVersion !== kind.version) diffs.add("kindVersion");
  const desired = kind.render(news.spec, news.secrets ?? {});
  const observed = olds.observed ?? undefined;
  for (const f of compareObserved(kind, desired, observed)) diffs.add(`observed.${f}`);
  return { changes: diffs.size > 0 || replaces.length > 0, replaces, deleteBeforeReplace: true, diffs: [...diffs] };
}

export async function remove(kindPath: string, _id: string, props: HostOutputs) {
  const kind = loadKind(kindPath);
  const log = logger(kind, secretValues(props.secrets));
  await withKindHost(props, (host) => kind.remove(host, props.spec, props.observed ?? undefined, log));
}
