/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */
/**
 * `HostResource`: the one Pulumi dynamic resource behind every host-side kind.
 *
 * The provider object Pulumi serializes into state holds two strings (the paths of
 * `providerImpl` and of the kind's module) and forwards each call with `require()`, as
 * DESIGN.md prescribes: nothing with a native handle is captured.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "./connection";
import { State } from "./hostKind";

const providers = new Map<string, pulumi.dynamic.ResourceProvider>();

/** The dynamic provider for the kind whose module is at `kindPath` (absolute; use `__filename`). */
export function providerFor(kindPath: string): pulumi.dynamic.ResourceProvider {
  let p = providers.get(kindPath);
  if (p === undefined) {
    const impl = require.resolve("./providerImpl");
    const kindModule = kindPath;
    p = {
      check: (olds: any, news: any) => require(impl).check(kindModule, olds, news),
      diff: (id: string, olds: any, news: any) => require(impl).diff(kindModule, id, olds, news),
      create: (inputs: any) => require(impl).create(kindModule, inputs),
      read: (id: string, props: any) => require(impl).read(kindModule, id, props),
      update: (id: string, olds: any, news: any) => require(impl).update(kindModule, id, olds, news),
      delete: (id: string, props: any) => require(impl).remove(kindModule, id, props),
    };
    providers.set(kindPath, p);
  }
  return p as pulumi.dynamic.ResourceProvider;
}

export interface HostResourceArgs<Spec> {
  /** Where to apply it. @default `{ kind: "local" }` */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The kind's inputs (plain JSON once resolved). */
  spec: pulumi.Input<Spec>;
  /** Secret inputs (passwords); always stored as Pulumi secrets. @default none: the kind takes no secret */
  secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A host-side resource of one kind. Components create these as children; outputs:
 * `observed` (what was read from the host on the last apply/refresh) plus kind extras.
 */
export class HostResource<Spec, S extends State = State> extends pulumi.dynamic.Resource {
  /** What was observed on the host at the last create/update/refresh. */
  declare public readonly observed: pulumi.Output<S | null>;
  /** The inputs as last applied. */
  declare public readonly spec: pulumi.Output<Spec>;
  declare public readonly kindVersion: pulumi.Output<number>;

  constructor(
    typeName: string,
    kindPath: string,
    name: string,
    args: HostResourceArgs<Spec>,
    opts: pulumi.CustomResourceOptions = {},
    extraOutputs: string[] = [],
  ) {
    const props: Record<string, unknown> = {
      // A connection may carry a private key: it is a secret in inputs and state alike.
      connection: pulumi.secret(args.connection ?? { kind: "local" }),
      spec: args.spec,
      observed: undefined,
      kind: undefined,
      kindVersion: undefined,
    };
    for (const k of extraOutputs) props[k] = undefined;
    if (args.secrets !== undefined) props.secrets = pulumi.secret(args.secrets);
    super(providerFor(kindPath), name, props, {
      ...opts,
      additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "secrets", "connection"],
    }, "kvmshare", typeName);
  }
}
