/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */
/**
 * `HostResource`: the one Pulumi dynamic resource behind every host-side kind.
 *
 * The provider object Pulumi serializes into state holds the kind's id and a loader that finds
 * kvmshare by package name, and forwards each call: nothing with a native handle, and no path
 * of the checkout that wrote the state, is captured (see docs/architecture.md).
 */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "./connection";
import { State } from "./hostKind";
import type { KindId } from "./kindIds";

const providers = new Map<string, pulumi.dynamic.ResourceProvider>();

/**
 * kvmshare's provider implementation, loaded at run time inside the dynamic-provider host by
 * *package name*, never by a path of the checkout that wrote the state: from the program's
 * `node_modules/kvmshare` (the compiled `dist/`), or, for kvmshare's own tests, quick start and
 * examples, from the kvmshare checkout the program runs in (its TypeScript sources, through
 * ts-node). Serialized into state as source text: it must only use `require` and globals.
 */
export function loadProviderImpl(): any {
  try {
    return require("kvmshare/dist/provider/providerImpl");
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code !== "MODULE_NOT_FOUND" || !String(err.message).includes("kvmshare")) throw e;
  }
  const path = require("path");
  const fs = require("fs");
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    const impl = path.join(dir, "provider", "providerImpl.ts");
    if (fs.existsSync(pkg) && fs.existsSync(impl) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "kvmshare") {
      if (!require.extensions?.[".ts"]) {
        require(require.resolve("ts-node", { paths: [dir] })).register({ transpileOnly: true, project: path.join(dir, "tsconfig.json") });
      }
      return require(impl);
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(
    `kvmshare: cannot load its provider from ${process.cwd()}: no node_modules/kvmshare there (the provider in state loads kvmshare by package name, so that state works from any checkout); run 'npm install kvmshare' in the Pulumi program's directory`,
  );
}

/**
 * The dynamic provider for one host kind, named by its stable id (`core/kindIds.ts`, registered in `provider/kinds.ts`) (the
 * component's type name, e.g. `ZfsDataset`). The serialized provider holds that id and the
 * loader above, nothing else: no absolute path, no handle.
 */
export function providerFor(kindId: KindId): pulumi.dynamic.ResourceProvider {
  let p = providers.get(kindId);
  if (p === undefined) {
    const kind = kindId;
    const impl = loadProviderImpl;
    p = {
      check: (olds: any, news: any) => impl().check(kind, olds, news),
      diff: (id: string, olds: any, news: any) => impl().diff(kind, id, olds, news),
      create: (inputs: any) => impl().create(kind, inputs),
      read: (id: string, props: any) => impl().read(kind, id, props),
      update: (id: string, olds: any, news: any) => impl().update(kind, id, olds, news),
      delete: (id: string, props: any) => impl().remove(kind, id, props),
    };
    providers.set(kindId, p);
  }
  return p as pulumi.dynamic.ResourceProvider;
}

export interface HostResourceArgs<Spec extends object> {
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
export class HostResource<Spec extends object, S extends State = State> extends pulumi.dynamic.Resource {
  /** What was observed on the host at the last create/update/refresh. */
  declare public readonly observed: pulumi.Output<S | null>;
  /** The inputs as last applied. */
  declare public readonly spec: pulumi.Output<Spec>;
  declare public readonly kindVersion: pulumi.Output<number>;

  /** @param typeName the kind's id (`core/kindIds.ts`) (also the resource type `kvmshare:<typeName>`) */
  constructor(
    typeName: KindId,
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
      providerFormat: undefined,
    };
    for (const k of extraOutputs) props[k] = undefined;
    if (args.secrets !== undefined) props.secrets = pulumi.secret(args.secrets);
    super(providerFor(typeName), name, props, {
      ...opts,
      additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "secrets", "connection"],
    }, "kvmshare", typeName);
  }
}
