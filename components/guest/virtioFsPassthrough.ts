import * as pulumi from "@pulumi/pulumi";
import { hostResourceClass, out } from "../../core/component";
import { HostComponent } from "../host";
import { PassthroughState } from "./domainEdit";
import { knownNow } from "./inputs";
import { PASSTHROUGH_DEFAULTS, PassthroughSpec, validatePassthrough, VirtioFsPassthroughArgs } from "./virtioFsPassthroughArgs";

export type { VirtioFsPassthroughArgs } from "./virtioFsPassthroughArgs";

/** The domain's host resource: the kind adds the domain's name and whether it needs a restart. */
const PassthroughResource = hostResourceClass<PassthroughSpec, PassthroughState>()("VirtioFsPassthrough", { domain: out<string>(), restartNeeded: out<boolean>() });

/**
 * Shares host directories with a libvirt guest (virtiofs with shared memfd memory, or 9p) and
 * optionally pins its vCPUs/emulator and NUMA memory. Edits the persistent domain XML with an XML
 * library, checks it with `virt-xml-validate`, then `virsh define`s it; a hand edit of those parts
 * is reported as drift. A running VM picks the change up at its next cold boot (`restartNeeded`).
 */
export class VirtioFsPassthrough extends HostComponent<VirtioFsPassthrough> {
  /** The domain name. */
  declare public readonly domain: pulumi.Output<string>;
  /** The tags the guest can mount, in order. */
  declare public readonly tags: pulumi.Output<string[]>;
  /** True when the VM is running with an older definition (power it off and on to apply). */
  declare public readonly restartNeeded: pulumi.Output<boolean>;
  /** The managed parts of the domain as last observed. */
  declare public readonly observed: pulumi.Output<PassthroughState | null>;

  constructor(name: string, args: VirtioFsPassthroughArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:guest:VirtioFsPassthrough", name, opts);
    // The spec is every field but the connection; `filesystems` is always there (default []).
    const { connection: _connection, ...given } = args;
    const spec: Record<string, unknown> = { ...given, filesystems: args.filesystems ?? PASSTHROUGH_DEFAULTS.filesystems };
    for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
    this.refuse(validatePassthrough(knownNow(spec) as PassthroughSpec));

    const { resource: res } = this.hostResource(
      PassthroughResource,
      "domain",
      { connection: args.connection, spec: pulumi.output(spec) as unknown as pulumi.Output<PassthroughSpec> },
      { dependsOn: opts.dependsOn },
    );
    this.publish({
      domain: res.domain,
      tags: pulumi.output(args.filesystems ?? []).apply((fs) => fs.map((f) => f.tag as string)),
      restartNeeded: res.restartNeeded,
      observed: res.observed,
    });
  }
}
