/**
 * The implementation behind every host-side dynamic resource. The serialized provider
 * (hostResource.ts) only `require()`s this file and the kind's module by path and forwards
 * the call, so what is stored in Pulumi state stays tiny and serializable.
 *
 * Inputs:  { connection, spec, secrets? }
 * Outputs: { connection, spec, secrets?, observed, kind, kindVersion, providerFormat, ...kind.outputs }
 * `read` re-probes the host; `diff` compares what the new inputs render to with what was
 * observed, so a hand edit on the host shows up after refresh.
 */
import { connect, ConnectionSpec, Host } from "../core/connection";
import { escapeControl, formatProblem, Problem, redact } from "../core/errors";
import { compareObserved, HostKind, Json, State, sameJson } from "../core/hostKind";
import { DATA_LOSS_FIELD, declaredSide, driftSummary, hostSide } from "../core/drift";
import { kindEntry } from "./kinds";
import { connectionProblems, isUnknown } from "../core/validate";
import { resourceNameProblems } from "../core/reserved";

/** The secrets when known (an object), `{}` when there are none, undefined while unknown (preview). */
function knownSecrets(s: unknown): Record<string, string> | undefined {
  if (s === undefined || s === null) return {};
  return typeof s === "object" ? (s as Record<string, string>) : undefined;
}

type AnyKind = HostKind<Record<string, unknown>, State>;

export interface HostInputs {
  connection?: ConnectionSpec;
  spec: Record<string, unknown>;
  secrets?: Record<string, string>;
  /** Set by `read` (the host's side of each drifted field) and `check` (the declared side): shown by the engine's diff, never applied. */
  drift?: Record<string, string>;
  [k: string]: unknown;
}

export interface HostOutputs extends HostInputs {
  observed: State | null;
  kind: string;
  kindVersion: number;
  providerFormat?: number;
}

/**
 * The format of the provider kvmshare stores in state. 2: kinds by id, kvmshare by package
 * name (portable). State of an older format is updated in place by the next `pulumi up`, which
 * stores the new provider: until then, a refresh runs the old provider (see docs/engine.md).
 */
export const PROVIDER_FORMAT = 2;

function loadKind(kindId: string): AnyKind {
  return kindEntry(kindId).load();
}

/**
 * Which host a connection reaches: `local`, or `ssh://host:port`. A change of anything else
 * (user, key, passphrase, agent, host-key pin, timeouts) reaches the same host: an update in
 * place, never a replacement.
 */
export function hostIdentity(c: ConnectionSpec | undefined): string {
  if (!c || c.kind === "local") return "local";
  return `ssh://${String(c.host).toLowerCase()}:${c.port ?? 22}`;
}

/** True when both connections are known and reach different hosts. */
function moved(olds: ConnectionSpec | undefined, news: ConnectionSpec | undefined, hadOlds: boolean): boolean {
  if (!hadOlds || containsUnknown(olds) || containsUnknown(news)) return false;
  return hostIdentity(olds) !== hostIdentity(news);
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

/** Everything a drift text must mask: the secret inputs and the connection's key, passphrase. */
function maskedValues(inputs: HostInputs): string[] {
  const c = (inputs.connection ?? {}) as Record<string, unknown>;
  const fromConnection = [c.privateKey, c.passphrase, c.password].filter((s): s is string => typeof s === "string" && s.length > 0);
  return [...secretValues(inputs.secrets), ...fromConnection];
}

/** Blank out any secret that a kind let slip into state (defence in depth). */
function scrub<T>(value: T, secrets: string[]): T {
  if (!secrets.length) return value;
  return JSON.parse(redact(JSON.stringify(value ?? null), secrets.map((s) => JSON.stringify(s).slice(1, -1))));
}

/**
 * A kind's log: secrets redacted, and terminal escapes and other control characters (from a file
 * name, a daemon's output) escaped (`\u001b`), so no value can recolour, move or clear the
 * terminal or the journal view; each line of a multi-line message carries the tag.
 */
export function logLine(kindName: string, m: string, secrets: string[]): string {
  return redact(m, secrets).split("\n").map((l) => `[kvmshare ${kindName}] ${escapeControl(l)}\n`).join("");
}

function logger(kind: AnyKind, secrets: string[]): (m: string) => void {
  return (m: string) => {
    if (process.env.KVMSHARE_QUIET !== "1") process.stderr.write(logLine(kind.name, m, secrets));
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

/** The kind's own validation, after the one check of the spec's name every kind passes. */
function kindProblems(kind: AnyKind, inputs: HostInputs): Problem[] {
  const name = resourceNameProblems(inputs.spec);
  let own: Problem[];
  try {
    own = kind.validate(inputs.spec ?? {}, knownSecrets(inputs.secrets));
  } catch (e) {
    if (name.length) return name; // a hostile name is refused even where the rest of the spec is not whole
    throw e;
  }
  return [...name.filter((p) => !own.some((o) => o.field === p.field)), ...own];
}

export async function check(kindId: string, olds: HostInputs, news: HostInputs) {
  const kind = loadKind(kindId);
  // A spec not known yet as a whole (it waits for another resource, e.g. packages) is checked at up.
  if (isUnknown(news.spec)) return { inputs: news, failures: [] };
  const problems = [...connectionProblems(news.connection), ...kindProblems(kind, news)];
  const holdsData = kindEntry(kindId).holdsData;
  const hadOlds = olds !== undefined && olds !== null && "spec" in olds;
  if (holdsData && hadOlds && moved(olds.connection, news.connection, hadOlds) && news.spec?.allowDestroy !== true) {
    problems.push({
      field: "connection",
      value: `${hostIdentity(olds.connection)} -> ${hostIdentity(news.connection)}`,
      message: `moves this ${kind.name} to another host: ${holdsData}. Keep the connection's host and port (a changed user, key, host-key pin or timeout is applied in place), or set allowDestroy: true if the data is meant to start over there`,
    });
  }
  // Host checks run at every preview, changed inputs or not: a conflict made on the host by hand
  // (another export with the same id, a namespace deleted) is named before anything is applied.
  if (!problems.length && kind.preflight && !containsUnknown(news.spec) && !containsUnknown(news.connection)) {
    problems.push(...(await withKindHost(news, (host) => kind.preflight!(host, news.spec))));
  }
  return { inputs: withDeclaredDrift(kind, olds, news), failures: prefixed(problems) };
}

/**
 * The program's inputs with the declared side of the drift that the last `read` found
 * (`olds.drift`, the host's side), so the engine's own diff shows host -> declared per field.
 */
function withDeclaredDrift(kind: AnyKind, olds: HostInputs | undefined, news: HostInputs): HostInputs {
  const host = olds?.drift;
  if (!host || typeof host !== "object" || containsUnknown(news.spec) || containsUnknown(news.secrets)) return news;
  const secrets = knownSecrets(news.secrets) ?? {};
  let desired: State;
  try {
    desired = kind.render(news.spec, secrets);
  } catch {
    return news; // invalid inputs: check's failures say why
  }
  return { ...news, drift: declaredSide(host, desired, maskedValues(news)) };
}

async function observe(kind: AnyKind, host: Host, inputs: HostInputs): Promise<State | undefined> {
  return kind.probe(host, inputs.spec, inputs.secrets ?? {});
}

function outputsOf(kind: AnyKind, inputs: HostInputs, observed: State | undefined): HostOutputs {
  const secrets = secretValues(inputs.secrets);
  const extra = kind.outputs ? kind.outputs(inputs.spec, observed) : {};
  // The drift texts belong to the inputs' diff only; outputs hold what was observed.
  const { drift: _drift, ...rest } = inputs;
  return {
    ...rest,
    ...scrub(extra, secrets),
    observed: scrub(observed ?? null, secrets),
    kind: kind.name,
    kindVersion: kind.version,
    providerFormat: PROVIDER_FORMAT,
  };
}

async function applyAndObserve(kind: AnyKind, inputs: HostInputs, previous?: HostOutputs): Promise<HostOutputs> {
  const secrets = inputs.secrets ?? {};
  const log = logger(kind, secretValues(secrets));
  const problems = kindProblems(kind, inputs);
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

export async function create(kindId: string, inputs: HostInputs) {
  const kind = loadKind(kindId);
  const outs = await applyAndObserve(kind, inputs);
  return { id: idOf(kind, inputs.spec), outs };
}

export async function update(kindId: string, _id: string, olds: HostOutputs, news: HostInputs) {
  const kind = loadKind(kindId);
  return { outs: await applyAndObserve(kind, news, olds) };
}

export async function read(kindId: string, id: string, props: HostOutputs) {
  const kind = loadKind(kindId);
  const observed = await withKindHost(props, (host) => observe(kind, host, props));
  const outs = outputsOf(kind, props, observed);
  // The inputs as the host has them now, so `preview --refresh --diff` names the drifted field.
  const spec = observed && kind.project ? kind.project(props.spec, observed) : props.spec;
  const inputs: HostInputs = { connection: props.connection, spec };
  if (props.secrets !== undefined) inputs.secrets = props.secrets;
  // And the host's side of each drifted field (check adds the declared side): the engine's diff
  // then prints what changed on the host, masked. One log line per drifted resource.
  const drift = driftOf(kind, props, observed);
  if (drift) {
    inputs.drift = drift;
    const next = drift[DATA_LOSS_FIELD] ? "`pulumi up` cannot put it back" : "`pulumi up` puts the declared state back";
    logger(kind, maskedValues(props))(`drift on ${hostIdentity(props.connection)} (${id}): ${driftSummary(drift)}; \`pulumi preview --diff\` shows it, ${next}`);
  }
  return { id, props: outs, inputs };
}

/** The host's side of what drifted from what `props` declare, or undefined when nothing did. */
function driftOf(kind: AnyKind, props: HostInputs, observed: State | undefined): Record<string, string> | undefined {
  let desired: State;
  try {
    desired = kind.render(props.spec, props.secrets ?? {});
  } catch {
    return undefined;
  }
  const fields = compareObserved(kind, desired, observed);
  if (!fields.length) return undefined;
  const host = hostSide(desired, observed, fields, maskedValues(props));
  const loss = observed && kind.dataLoss?.(props.spec, fields);
  return loss ? { ...host, [DATA_LOSS_FIELD]: loss } : host;
}

export async function diff(kindId: string, _id: string, olds: HostOutputs, news: HostInputs) {
  const kind = loadKind(kindId);
  const replaces = [
    // Another host: the resource is created there and removed here. Same host reached another way
    // (user, key, pin, timeouts): an update in place, so no data is ever touched for it.
    ...(moved(olds.connection, news.connection, true) ? ["connection"] : []),
    ...(kind.replaceOn ?? []).filter((k) => !sameJson(olds.spec?.[k], news.spec?.[k])).map((k) => `spec.${k}`),
  ];
  if (containsUnknown(news.spec) || containsUnknown(news.secrets)) {
    return { changes: true, replaces, deleteBeforeReplace: true, diffs: ["spec"] };
  }
  const diffs = new Set<string>();
  const specKeys = new Set([...Object.keys(olds.spec ?? {}), ...Object.keys(news.spec ?? {})]);
  for (const k of specKeys) {
    if (!sameJson(olds.spec?.[k], news.spec?.[k])) diffs.add(`spec.${k}`);
  }
  if (!sameJson(olds.secrets ?? {}, news.secrets ?? {})) diffs.add("secrets");
  if (!replaces.length && !sameJson(olds.connection ?? null, news.connection ?? null)) diffs.add("connection");
  if (olds.kindVersion !== kind.version) diffs.add("kindVersion");
  if (olds.providerFormat !== PROVIDER_FORMAT) diffs.add("providerFormat");
  const desired = kind.render(news.spec, news.secrets ?? {});
  const observed = olds.observed ?? undefined;
  for (const f of compareObserved(kind, desired, observed)) diffs.add(`observed.${f}`);
  // No log line here: the engine calls diff twice in `preview --refresh` (the refresh step and
  // the plan), and shows the inputs' diff itself; `read` logs each drift once.
  return { changes: diffs.size > 0 || replaces.length > 0, replaces, deleteBeforeReplace: true, diffs: [...diffs] };
}

export async function remove(kindId: string, _id: string, props: HostOutputs) {
  const kind = loadKind(kindId);
  const log = logger(kind, secretValues(props.secrets));
  await withKindHost(props, (host) => kind.remove(host, props.spec, props.observed ?? undefined, log));
}
