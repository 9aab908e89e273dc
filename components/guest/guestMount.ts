import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { GuestMountState } from "./guestMountKind";
import { knownNow } from "./inputs";
import { unitNames } from "./mountPlan";
import { GuestMountArgs, GuestMountExtras, GuestMountSpec, validateGuestMount } from "./guestMountArgs";
import { afterSetup, hostSetupFor } from "../host";
import { MountHealthSpec, resolveMountHealth, validateMountHealth } from "./mountHealth";
import { MountHealthState } from "./mountHealthKind";

export type { GuestMountArgs } from "./guestMountArgs";

/**
 * A mount inside a guest: NFS, SMB3, virtiofs or 9p, as systemd units (or an fstab entry),
 * checked by `systemd-analyze verify` before they are installed; SMB passwords go to a root-only
 * 0600 credentials file. Hand edits of the units are reported as drift.
 */
export class GuestMount extends pulumi.ComponentResource {
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
    super("kvmshare:guest:GuestMount", name, {}, opts);
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
    const setup = hostSetupFor(this, name, args.connection, args.nfs ? ["nfsClient"] : args.smb ? ["smbClient"] : [], hostSetup, args.connection !== undefined && (args.root ?? "/") === "/");

    const res = new HostResource<GuestMountSpec, GuestMountState>(
      "GuestMount",
      `${name}-mount`,
      {
        connection: args.connection,
        spec: pulumi.output(afterSetup(setup, spec)) as unknown as pulumi.Output<GuestMountSpec>,
        secrets: args.password !== undefined ? { password: args.password } : undefined,
      },
      // The host resource waits for what the component waits for (an export, a firewall).
      { parent: this, dependsOn: opts.dependsOn },
      ["unitName", "mountUnit", "automountUnit", "what"],
    );
    const out = res as unknown as { unitName: pulumi.Output<string>; mountUnit: pulumi.Output<string>; what: pulumi.Output<string> };
    this.where = pulumi.output(args.where);
    this.unitName = pulumi.output(args.where).apply((w) => unitNames(w, args.automount === true).primaryUnit);
    this.mountUnit = pulumi.output(args.where).apply((w) => unitNames(w).mountUnit);
    this.what = out.what;
    this.observed = res.observed;
    if (health) {
      const hspec = pulumi.output(args.where).apply((w): MountHealthSpec => ({ ...health, where: w, mountUnit: unitNames(w).mountUnit, unitDir: args.unitDir ?? "/etc/systemd/system" }));
      new HostResource<MountHealthSpec, MountHealthState>("GuestMountHealth", `${name}-health`, { connection: args.connection, spec: hspec }, { parent: this, dependsOn: [res] });
    }
    this.registerOutputs({ unitName: this.unitName, mountUnit: this.mountUnit, where: this.where, what: this.what, observed: this.observed });
  }
}
