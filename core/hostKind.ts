/**
 * The description of one kind of host-side resource. Every managed thing on a host (a pool,
 * a dataset, an export file, a sysctl profile, a mount unit) is one `HostKind`; the single
 * dynamic provider in `hostResource.ts` turns it into Pulumi's create/read/diff/update/delete.
 *
 * A kind module must `export const kind: HostKind<...>` and be loadable with `require()` by
 * absolute path: the provider serialized into Pulumi's state only carries that path.
 */
import { Host } from "./connection";
import { Problem } from "./errors";

/** JSON-serializable state. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type State = { [k: string]: Json | undefined };

export interface ApplyContext<Spec extends object, S extends State> {
  spec: Spec;
  /** What `render` produced: the state the host should end up in. */
  desired: S;
  /** What `probe` saw before this apply (`undefined`: absent). */
  live: S | undefined;
  /** Secret inputs (plain here; never log them, never return them in state). */
  secrets: Record<string, string>;
  /** The previous outputs on update (`undefined` on create). */
  previous?: { spec: Spec; observed: S | undefined; extra?: Record<string, Json | undefined> };
  /** Progress/info messages (shown by the engine; must not contain secrets). */
  log(message: string): void;
}

export interface HostKind<Spec extends object, S extends State = State> {
  /** Type name, e.g. `ZfsDataset`. */
  name: string;
  /** Bump when probe/apply behaviour changes; stored in outputs as `kindVersion`. */
  version: number;
  /**
   * Pure checks of the inputs; every problem at once. Runs at preview time (`check`). `secrets`
   * are the secret inputs when known (undefined while unknown at preview): a kind checks their
   * shape here, never putting a secret's value into a problem.
   */
  validate(spec: Spec, secrets?: Record<string, string>): Problem[];
  /**
   * Checks against the host that must pass before anything changes (e.g. the host's ZFS lacks
   * lz4, a device already carries a pool). Runs in `check` too, so preview reports them.
   */
  preflight?(host: Host, spec: Spec): Promise<Problem[]>;
  /** Pure: the desired state for these inputs. */
  render(spec: Spec, secrets: Record<string, string>): S;
  /** The live state, read from the host, in the same shape as `render`'s (`undefined`: absent). */
  probe(host: Host, spec: Spec, secrets: Record<string, string>): Promise<S | undefined>;
  /**
   * Make the host match `desired`: idempotent; check configs with the daemon's own parser,
   * write atomically, reload only when content changed.
   */
  apply(host: Host, ctx: ApplyContext<Spec, S>): Promise<void>;
  /** Undo `apply`. Never destroys data unless the spec says `allowDestroy`. */
  remove(host: Host, spec: Spec, observed: S | undefined, log: (m: string) => void): Promise<void>;
  /**
   * Names of the fields that differ between desired and what is on the host (the provider
   * reports an absent resource itself, so `observed` is always present here).
   * @default per-key JSON equality
   */
  compare?(desired: S, observed: S): string[];
  /** What `diff` names when `probe` finds nothing. @default "(absent on host)" */
  absentAs?: string;
  /**
   * When putting the drifted `fields` back as declared would lose data (a pool's layout): one
   * sentence saying so and what to do, naming `allowDestroy`. Shown with the drift at preview,
   * before any `up` is tried. @default undefined: every drift is restored in place
   */
  dataLoss?(spec: Spec, fields: string[]): string | undefined;
  /** The inputs as the host now has them (for `refresh --diff` to name the drifted field). */
  project?(spec: Spec, observed: S): Spec;
  /** Extra outputs derived from what was observed (e.g. a pool's guid). */
  outputs?(spec: Spec, observed: S | undefined): Record<string, Json | undefined>;
  /** Spec fields whose change replaces the resource instead of updating it. */
  replaceOn?: string[];
  /** A stable id for the resource. @default `${name}:${JSON of spec.name ?? spec.path}` */
  id?(spec: Spec): string;
}

/** What `diff` reports for a resource that is not on the host. */
export const ABSENT = "(absent on host)";

/** Per-key JSON comparison of desired against observed (all keys, or only `keys`). */
export function defaultCompare<S extends State>(desired: S, observed: S, keys: readonly (keyof S & string)[] = Object.keys(desired)): string[] {
  return keys.filter((k) => !sameJson(desired[k], observed[k]));
}

/** The drifted fields of an observation, or `[ABSENT]` when there is none. */
export function compareObserved<S extends State>(kind: { compare?(d: S, o: S): string[]; absentAs?: string }, desired: S, observed: S | undefined): string[] {
  if (!observed) return [kind.absentAs ?? ABSENT];
  return kind.compare ? kind.compare(desired, observed) : defaultCompare(desired, observed);
}

/**
 * JSON with object keys in sorted order. The engine stores state with sorted keys, so a value
 * read back from state must compare equal to the same value built in another key order.
 */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]])) : x,
  );
}

/** Equal as JSON, whatever the order of object keys (array order still counts). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
