import * as pulumi from "@pulumi/pulumi";
import { Observed } from "../../core/component";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";

import { UNKNOWN } from "../../core/validate";
import { AllowedClients, allowedHostNamesOf, allowedSourcesOf } from "../../core/clients";
import { HostComponent, HostSetupPlan } from "../host";
import { NfsExportState } from "./nfsExportKind";
import { conflictsBetween, NfsClient, NfsExportArgs, NfsExportSpec, resolveNfsExport, validateNfsExportArgs } from "./nfsExportArgs";

// Exports declared in this program run (one list per engine connection), to find conflicts
// between them before anything runs.
type Declared = { label: string; spec: NfsExportSpec; connection: string };
const declaredByRun = new WeakMap<object, Declared[]>();
const fallbackRun = {};

function declaredInThisRun(): Declared[] {
  let key: object = fallbackRun;
  try {
    key = (pulumi.runtime.getMonitor() as object | undefined) ?? fallbackRun;
  } catch {
    key = fallbackRun;
  }
  let list = declaredByRun.get(key);
  if (!list) declaredByRun.set(key, (list = []));
  return list;
}

function connectionKey(c: unknown): string {
  if (c === undefined) return "local";
  if (pulumi.Output.isInstance(c)) return "?";
  const spec = c as ConnectionSpec;
  return spec.kind === "ssh" ? `${spec.user ?? "root"}@${spec.host}:${spec.port ?? 22}` : "local";
}

/** The clients, for a firewall (`allowedSources`, `allowedHostNames`); `observed`: the export file as last observed on the host. */
export interface NfsExport extends AllowedClients, Observed<NfsExportState> {}

/**
 * An NFS export of one directory to a list of guests, on the kernel NFS server or NFS-Ganesha.
 * Checked by the server's own parser before it goes live, reloaded only on change, reported as
 * drift when edited by hand. `allowedSources` feeds a firewall.
 */
export class NfsExport extends HostComponent<NfsExport> {
  /** The export file on the host. */
  declare public readonly file: pulumi.Output<string>;
  /** What clients mount: the path (kernel) or the pseudo path (ganesha). */
  declare public readonly mountPath: pulumi.Output<string>;

  constructor(name: string, args: NfsExportArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:exports:NfsExport", name, opts);
    const knownPath = typeof args.path === "string" ? args.path : UNKNOWN;
    const { hostSetup, ...withoutSetup } = args;
    // Clients known now are validated now; the ones that are Outputs once known, in check.
    const knownClients = args.clients.map((c) => (pulumi.Output.isInstance(c) || c instanceof Promise ? UNKNOWN : c) as string | NfsClient);
    const plain = { ...withoutSetup, path: knownPath, clients: knownClients };
    delete (plain as { connection?: unknown }).connection;
    const problems = validateNfsExportArgs(name, plain);
    const resolved = resolveNfsExport(name, plain);
    const conn = connectionKey(args.connection);
    const declared = declaredInThisRun();
    if (!problems.length && typeof args.path === "string") {
      for (const other of declared) {
        // Exports on hosts not known yet (a connection Output) are compared by the host checks instead.
        if (conn !== "?" && other.connection === conn) problems.push(...conflictsBetween(resolved, other.spec, `NfsExport '${other.label}'`));
      }
    }
    if (problems.length) throw new ValidationError(`NfsExport ${name}`, problems);
    if (typeof args.path === "string") declared.push({ label: name, spec: resolved, connection: conn });

    const spec = pulumi
      .all([args.path, pulumi.all(args.clients as pulumi.Input<string | NfsClient>[])])
      .apply(([p, clients]) => resolveNfsExport(name, { ...plain, path: p, clients: clients as (string | NfsClient)[] }));
    // The server's packages and service, by default when the system's own exports directory is used.
    const need = resolved.backend === "ganesha" ? "nfsGanesha" : "nfsKernelServer";
    const setup: HostSetupPlan = { needs: [need], setting: hostSetup, auto: args.exportsDir === undefined, services: true };
    const { resource } = this.hostResource<NfsExportSpec, NfsExportState>("NfsExport", "export", { connection: args.connection, spec, setup });

    const hosts = spec.apply((x) => x.clients.map((c) => c.host));
    this.publish({
      allowedSources: hosts.apply(allowedSourcesOf),
      allowedHostNames: hosts.apply(allowedHostNamesOf),
      file: pulumi.output(resolved.file),
      mountPath: resolved.backend === "ganesha" ? spec.apply((s) => s.pseudo as string) : pulumi.output(args.path),
      observed: resource.observed,
    });
  }
}
