import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../../core/errors";
import { hostResourceClass, out } from "../../core/component";
import { HostResource } from "../../core/hostResource";
import { GuestMountState } from "./guestMountKind";
import { knownNow } from "./inputs";
import { unitNames } from "./mountPlan";
import { GuestMountArgs, GuestMountExtras, GuestMountSpec, validateGuestMount } from "./guestMountArgs";
import { HostComponent, HostSetupPlan } from "../host";
import { MountHealthSpec, resolveMountHealth, validateMountHealth } from "./mountHealth";
import { MountHealthState } from "./mountHealthKind";

export type { GuestMountArgs } from "./guestMountArgs";

/** The mount's host resource: the kind adds the units' names and what is mounted. */
const GuestMountResource = hostResourceClass<GuestMountSpec, GuestMountState>()("GuestMount", {
  unitName: out<string>(),
  mountUnit: out<string>(),
  automountUnit: out<string | null>(),
  what: out<string>(),
});

/**
 * A mount inside a guest: NFS, SMB3, virtiofs or 9p, as systemd units (or an fstab entry),
 * checked by `systemd-analyze verify` before they are installed; SMB passwords go to a root-only
 * 0600 credentials file. Hand edits of the units are reported as drift.
 */
export class GuestMount extends HostComponent<GuestMount> {
  /** The unit to watch (`.automount` when automount, else `.mount`), e.g. `mnt-share.mount`. */
  declare public readonly unitName: pulumi.Output<string>;
  /** The `.mount` unit's name. */
  declare public readonly mountUnit: pulumi.Output<string>;
  /** The mount point. */
  declare public readonly where: pulumi.Output<string>;
  /** What is mounted (`server:/path`, `//server/share`, or the tag). */
  declare public readonly what: pulumi.Output<string>;
  /** What was observed in the guest at the last apply/refresh. */
  declare public readonly observed: pulumi.Output<GuestMountState | null>;

  constructor(name: string, args: GuestMountArgs & GuestMountExtras, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:guest:GuestMount", name, opts);
    // The spec is every field but the connection and the password (that one goes in secrets).
    const { connection: _connection, password: _password, hostSetup, healthCheck, ...given } = args;
    const spec = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as typeof given;
    const problems = validateGuestMount(knownNow(spec) as unknown as GuestMountSpec);
    if (args.smb && args.password === undefined) problems.push({ field: "password", message: "is required for an SMB mount (use a pulumi secret)" });
    if (!args.smb && args.password !== undefined) problems.push({ field: "password", message: "only applies to smb mounts; remove it" });
    const health = healthCheck === undefined ? undefined : resolveMountHealth(healthCheck);
    if (health) problems.push(...validateMountHealth(health));
    if (problems.length) throw new ValidationError(`GuestMount ${name}`, problems);
    // nfs-common / cifs-utils, by default on a guest reached over a connection with its own root.
    const setup: HostSetupPlan = { needs: args.nfs ? ["nfsClient"] : args.smb ? ["smbClient"] : [], setting: hostSetup, auto: args.connection !== undefined && (args.root ?? "/") === "/" };
    const { resource: res } = this.hostResource(
      GuestMountResource,
      "mount",
      {
        connection: args.connection,
        spec: pulumi.output(spec) as unknown as pulumi.Output<GuestMountSpec>,
        secrets: args.password !== undefined ? { password: args.password } : undefined,
        setup,
      },
      // The host resource waits for what the component waits for (an export, a firewall).
      { dependsOn: opts.dependsOn },
    );
    const where = pulumi.output(args.where);
    this.publish({
      unitName: where.apply((w) => unitNames(w, args.automount === true).primaryUnit),
      mountUnit: where.apply((w) => unitNames(w).mountUnit),
      where,
      what: res.what,
      observed: res.observed,
    });
    if (health) {
      const hspec = pulumi.output(args.where).apply((w): MountHealthSpec => ({ ...health, where: w, mountUnit: unitNames(w).mountUnit, unitDir: args.unitDir ?? "/etc/systemd/system" }));
      new HostResource<MountHealthSpec, MountHealthState>("GuestMountHealth", `${name}-health`, { connection: args.connection, spec: hspec }, { parent: this, dependsOn: [res] });
    }
  }
}
