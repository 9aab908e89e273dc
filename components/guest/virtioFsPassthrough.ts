import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { PassthroughState } from "./domainEdit";
import { Inputs, knownNow } from "./inputs";
import { NumaTune, PassthroughSpec, SharedFilesystemSpec, validatePassthrough, VcpuPin } from "./virtioFsPassthroughArgs";

export interface VirtioFsPassthroughArgs {
  /** The KVM host libvirt runs on (where `virsh` is run). @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /**
   * Name of an existing libvirt domain. An Input, so it can come from whatever created the VM
   * (a Terraform-bridged libvirt provider, a command, cloud-init tooling): Pulumi then orders them.
   */
  domain: pulumi.Input<string>;
  /** libvirt URI (`virsh -c`), e.g. `qemu:///system` or `qemu:///system?socket=/run/x/libvirt-sock`. @default "qemu:///system" */
  uri?: pulumi.Input<string>;
  /** Host directories to share (virtiofs by default, or 9p). @default [] */
  filesystems?: Inputs<SharedFilesystemSpec>[];
  /** Pin vCPUs to host CPUs. @default none */
  vcpuPins?: VcpuPin[];
  /** Pin the emulator threads to host CPUs, e.g. `"0"`. @default none */
  emulatorPin?: string;
  /** Memory NUMA policy. @default none */
  numaTune?: NumaTune;
}

/**
 * Shares host directories with a libvirt guest (virtiofs with shared memfd memory, or 9p) and
 * optionally pins its vCPUs/emulator and NUMA memory. Edits the persistent domain XML with an XML
 * library, checks it with `virt-xml-validate`, then `virsh define`s it; a hand edit of those parts
 * is reported as drift. A running VM picks the change up at its next cold boot (`restartNeeded`).
 */
export class VirtioFsPassthrough extends pulumi.ComponentResource {
  /** The domain name. */
  declare public readonly domain: pulumi.Output<string>;
  /** The tags the guest can mount, in order. */
  declare public readonly tags: pulumi.Output<string[]>;
  /** True when the VM is running with an older definition (power it off and on to apply). */
  declare public readonly restartNeeded: pulumi.Output<boolean>;
  /** The managed parts of the domain as last observed. */
  declare public readonly observed: pulumi.Output<PassthroughState | null>;

  constructor(name: string, args: VirtioFsPassthroughArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:guest:VirtioFsPassthrough", name, {}, opts);
    const spec: Record<string, unknown> = {
      domain: args.domain,
      uri: args.uri,
      filesystems: args.filesystems ?? [],
      vcpuPins: args.vcpuPins,
      emulatorPin: args.emulatorPin,
      numaTune: args.numaTune,
    };
    for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
    const problems = validatePassthrough(knownNow(spec) as PassthroughSpec);
    if (problems.length) throw new ValidationError(`VirtioFsPassthrough ${name}`, problems);

    const res = new HostResource<PassthroughSpec, PassthroughState>(
      "VirtioFsPassthrough",
      require.resolve("./virtioFsPassthroughKind"),
      `${name}-domain`,
      { connection: args.connection, spec: pulumi.output(spec) as unknown as pulumi.Output<PassthroughSpec> },
      { parent: this, dependsOn: opts.dependsOn },
      ["domain", "restartNeeded"],
    );
    const out = res as unknown as { domain: pulumi.Output<string>; restartNeeded: pulumi.Output<boolean> };
    this.domain = out.domain;
    this.restartNeeded = out.restartNeeded;
    this.tags = pulumi.output(args.filesystems ?? []).apply((fs) => fs.map((f) => f.tag as string));
    this.observed = res.observed;
    this.registerOutputs({ domain: this.domain, tags: this.tags, restartNeeded: this.restartNeeded, observed: this.observed });
  }
}
