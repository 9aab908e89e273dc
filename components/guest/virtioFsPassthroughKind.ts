/**
 * Kind: a libvirt domain's shared filesystems (virtiofs/9p), the shared memory virtiofs needs, and
 * vCPU/emulator pinning and NUMA policy. `virsh dumpxml --inactive` -> edit with an XML library ->
 * `virt-xml-validate` -> `virsh define --validate`. A hand edit (`virsh edit`) shows as drift.
 * `virsh define` changes the persistent definition: a running VM picks it up at its next cold
 * boot, reported as the `restartNeeded` output (kvmshare never restarts a VM by itself).
 */
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { applyPassthrough, desiredPassthrough, observePassthrough, PassthroughState, removePassthrough } from "./domainEdit";
import { PASSTHROUGH_HOST_TOOLS } from "./guestFacts";
import { PASSTHROUGH_DEFAULTS, PassthroughSpec, SHARED_FILESYSTEM_DEFAULTS, validatePassthrough } from "./virtioFsPassthroughArgs";

/** The libvirt URI when `uri` is unset. */
export const DEFAULT_URI = PASSTHROUGH_DEFAULTS.uri;

const virsh = (spec: PassthroughSpec, ...args: string[]) => ["virsh", "-q", "-c", spec.uri ?? DEFAULT_URI, ...args];

/** The domain's persistent XML, or undefined when the domain does not exist. */
export async function dumpDomain(host: Host, spec: PassthroughSpec, live = false): Promise<string | undefined> {
  const r = await host.run(virsh(spec, "dumpxml", ...(live ? [] : ["--inactive"]), "--domain", spec.domain), { check: false });
  if (r.code === 0) return r.stdout;
  if (/failed to get domain|Domain not found|no domain with matching name/i.test(r.stderr)) return undefined;
  throw new Error(`virsh dumpxml ${spec.domain} on ${host.label} (${spec.uri ?? DEFAULT_URI}) failed (exit ${r.code}): ${r.stderr.trim()}`);
}

/**
 * Check a domain XML with libvirt's own schema (`virt-xml-validate`), then `virsh define` it.
 * Anything the validator refuses never reaches libvirt.
 */
export async function defineChecked(host: Host, uri: string, xml: string): Promise<void> {
  const dir = (await host.run(["mktemp", "-d", "/tmp/kvmshare-domain.XXXXXX"])).stdout.trim();
  const file = `${dir}/domain.xml`;
  try {
    await host.writeFileAtomic(file, xml, { mode: "0600" });
    const v = await host.run(["virt-xml-validate", file, "domain"], { check: false });
    if (v.code !== 0) {
      throw new Error(
        `virt-xml-validate refused the domain XML (exit ${v.code}); nothing was defined:\n  ` +
          (v.stderr + v.stdout).trim().split("\n").slice(-6).join("\n  "),
      );
    }
    await host.run(["virsh", "-q", "-c", uri, "define", "--validate", file]);
  } finally {
    await host.run(["rm", "-rf", "--", dir], { check: false });
  }
}

async function probe(host: Host, spec: PassthroughSpec): Promise<PassthroughState | undefined> {
  const xml = await dumpDomain(host, spec);
  if (xml === undefined) return undefined;
  const observed = observePassthrough(xml, spec);
  const state = await host.run(virsh(spec, "domstate", "--domain", spec.domain), { check: false });
  if (state.stdout.trim() === "running") {
    const liveXml = await dumpDomain(host, spec, true);
    observed.restartNeeded = liveXml !== undefined && JSON.stringify(observePassthrough(liveXml, spec)) !== JSON.stringify({ ...observed, restartNeeded: undefined });
    if (!observed.restartNeeded) delete observed.restartNeeded;
  }
  return observed;
}

async function preflight(host: Host): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const t of PASSTHROUGH_HOST_TOOLS) {
    const r = await host.run(["sh", "-c", 'command -v "$1" >/dev/null 2>&1', "sh", t.command], { check: false });
    if (r.code !== 0) problems.push({ field: "connection", value: host.label, message: `has no ${t.command}: ${t.install}` });
  }
  return problems;
}

export const kind: HostKind<PassthroughSpec, PassthroughState> = {
  name: "VirtioFsPassthrough",
  version: 1,
  validate: (spec) => validatePassthrough(spec),
  preflight: (host) => preflight(host),
  render: (spec) => desiredPassthrough(spec),
  probe: (host, spec) => probe(host, spec),
  id: (spec) => `VirtioFsPassthrough:${spec.uri ?? DEFAULT_URI}:${spec.domain}`,
  replaceOn: ["domain", "uri"],
  outputs: (spec, observed) => ({ domain: spec.domain, restartNeeded: observed?.restartNeeded === true }),
  async apply(host, { spec, log }) {
    const t0 = Date.now();
    const xml = await dumpDomain(host, spec);
    if (xml === undefined) {
      throw new Error(
        `domain '${spec.domain}' not found at ${spec.uri ?? DEFAULT_URI} on ${host.label}: define the VM first ` +
          "(pass the name as an Output of the resource that creates it, so Pulumi orders them)",
      );
    }
    const edited = applyPassthrough(xml, spec);
    await defineChecked(host, spec.uri ?? DEFAULT_URI, edited);
    log(`defined ${spec.domain} with ${(spec.filesystems ?? []).map((f) => `${f.driver ?? SHARED_FILESYSTEM_DEFAULTS.driver}:${f.tag}`).join(", ") || "pinning"} in ${Date.now() - t0} ms`);
  },
  async remove(host, spec, _observed, log) {
    const xml = await dumpDomain(host, spec);
    if (xml === undefined) {
      log(`domain '${spec.domain}' is gone; nothing to take out`);
      return;
    }
    await defineChecked(host, spec.uri ?? DEFAULT_URI, removePassthrough(xml));
    log(`took kvmshare's filesystems and pinning out of ${spec.domain}`);
  },
};
