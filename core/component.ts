/**
 * What every kvmshare component shares: its outputs are declared once, as `declare public
 * readonly x: pulumi.Output<T>` fields, and given once, in the one map `publish` assigns and
 * registers (the compiler refuses a map that misses a declared output or names one that is not
 * declared); its host-side children are classes whose extra outputs are declared once too.
 */
import * as pulumi from "@pulumi/pulumi";
import { Problem, ValidationError } from "./errors";
import { resourceNameProblems } from "./reserved";
import { State } from "./hostKind";
import { HostResource, HostResourceArgs } from "./hostResource";
import type { KindId } from "./kindIds";

/** A component's outputs: its own public fields typed `pulumi.Output` (not `urn`, which every resource has). */
export type OutputsOf<C> = {
  [K in Exclude<keyof C, keyof pulumi.ComponentResource> as C[K] extends pulumi.OutputInstance<unknown> ? K : never]: C[K];
};

/**
 * The base of kvmshare's components. `Self` is the class itself (`class ZfsPool extends
 * Component<ZfsPool>`), so `publish` knows the outputs it declares.
 */
export abstract class Component<Self> extends pulumi.ComponentResource {
  /** The name the component was given: its children are named `${resourceName}-<role>`. */
  protected readonly resourceName: string;
  /** `<Component> <name>`, as every validation error names it (`ZfsPool tank`). */
  protected readonly label: string;

  protected constructor(type: string, name: string, opts: pulumi.ComponentResourceOptions = {}) {
    super(type, name, {}, opts);
    this.resourceName = name;
    this.label = `${type.slice(type.lastIndexOf(":") + 1)} ${name}`;
    // The resource name reaches file headers, sections and unit names: checked once, here.
    this.refuse(resourceNameProblems({ name }));
  }

  /**
   * Stop the program at preview, before anything on a host changes, with every problem at once
   * (the Args file's validation first, then the component's own checks, e.g. `requiredSecret`).
   */
  protected refuse(problems: Problem[], ...more: Problem[][]): void {
    const all = [...problems, ...more.flat()];
    if (all.length) throw new ValidationError(this.label, all);
  }

  /** Assign every declared output and register them all as the component's outputs. */
  protected publish(outputs: OutputsOf<Self>): void {
    Object.assign(this, outputs);
    this.registerOutputs(outputs as Record<string, unknown>);
  }
}

/**
 * A secret a component cannot do without (a password, a key): a problem naming the field when it
 * is missing or empty, with how to give it (`hint`, e.g. "(a pulumi.secret)").
 */
export function requiredSecret(field: string, value: unknown, hint = "(use pulumi.secret(...) or config.requireSecret(...))", when = true): Problem[] {
  return when && (value === undefined || value === "") ? [{ field, message: `is required ${hint}` }] : [];
}

/** One extra output of a host resource class (`hostResourceClass`): its type only, nothing at run time. */
export function out<T>(): pulumi.Output<T> {
  return undefined as unknown as pulumi.Output<T>;
}

/**
 * The fields an `out<T>()` map declares, for a component whose outputs are its child resource's
 * (declared once, in the map): `export interface ZfsRestoreDrill extends Outputs<typeof DRILL_OUTPUTS> {}`
 * merges them into the class, where `publish` then requires them.
 */
export type Outputs<O extends Record<string, pulumi.Output<unknown>>> = { readonly [K in keyof O]: O[K] };

/**
 * The `observed` output of a component that owns one host resource: that resource's `observed`,
 * declared once (`export interface SmbUser extends Observed<SmbUserState> {}`), like `AllowedClients`.
 */
export interface Observed<S> {
  /** What was observed on the host at the last read (null until then). */
  readonly observed: pulumi.Output<S | null>;
}

/** A host resource class of one kind: a `HostResource` with the kind's extra outputs `O` as typed fields. */
export type HostResourceClass<Spec extends object, S extends State, O> = new (
  name: string,
  args: HostResourceArgs<Spec>,
  opts?: pulumi.CustomResourceOptions,
) => HostResource<Spec, S> & Readonly<O>;

/**
 * The host-side resource class of a kind, with its extra outputs declared once:
 * `hostResourceClass<ZfsPoolSpec, ZfsPoolState>()("ZfsPool", { guid: out<string | null>() })`
 * (curried so that `Spec` and `S` are given and the outputs inferred).
 */
export function hostResourceClass<Spec extends object, S extends State>() {
  return <O extends Record<string, pulumi.Output<unknown>>>(kind: KindId, outputs: O): HostResourceClass<Spec, S, O> => {
    const names = Object.keys(outputs);
    return class extends HostResource<Spec, S> {
      constructor(name: string, args: HostResourceArgs<Spec>, opts?: pulumi.CustomResourceOptions) {
        super(kind, name, args, opts, names);
      }
    } as unknown as HostResourceClass<Spec, S, O>;
  };
}
