/**
 * Kind: a host's part in a realm: krb5.conf, idmapd.conf (NFSv4 id domain) and rpc.gssd's
 * nfs.conf drop-in. krb5.conf is parsed by MIT's profile library before it goes live; the
 * daemons that read these files at start are restarted only when a file changed.
 */
import { HostKind } from "../../core/hostKind";
import { render } from "../../core/render";
import { changedFiles, checkProfile, KrbFile, KrbFiles, probeFiles, writeFiles } from "./krbFiles";
import { KerberosClientSpec, validateKerberosClient } from "./kerberosClientArgs";

export type KerberosClientState = { files: Record<string, KrbFile | null> };

export function renderKerberosClient(s: KerberosClientSpec): KrbFiles {
  const files: KrbFiles = { [s.krb5ConfPath]: { content: render("krb5.conf.hbs", s), mode: "0644" } };
  if (s.idmapdConfPath) files[s.idmapdConfPath] = { content: render("idmapd.conf.hbs", s), mode: "0644" };
  if (s.gssdConfPath) files[s.gssdConfPath] = { content: render("gssd-nfsconf.hbs", { ...s, useGssProxy: s.gssdUseGssProxy ? 1 : 0 }), mode: "0644" };
  return files;
}

export const kind: HostKind<KerberosClientSpec, KerberosClientState> = {
  name: "KerberosClient",
  version: 1,
  validate: validateKerberosClient,
  render: (s) => ({ files: renderKerberosClient(s) }),
  async probe(host, s) {
    const files = await probeFiles(host, Object.keys(renderKerberosClient(s)));
    return Object.values(files).every((f) => f === null) ? undefined : { files };
  },
  compare: (d, o) => changedFiles(d.files as KrbFiles, o.files).map((p) => `files.${p}`),
  async apply(host, { spec, desired, live, log }) {
    const changed = await writeFiles(host, desired.files as KrbFiles, live?.files, (file, content) => (file === spec.krb5ConfPath ? checkProfile(host, file, content) : Promise.resolve()));
    if (changed.length) {
      log(`wrote ${changed.join(", ")} on ${host.label}; ${spec.reloadCommand.join(" ")}`);
      await host.run(spec.reloadCommand, { check: false });
    }
  },
  async remove(host, spec, _observed, log) {
    for (const p of Object.keys(renderKerberosClient(spec))) if (await host.removeFile(p)) log(`removed ${p} on ${host.label}`);
  },
  id: (s) => `KerberosClient:${s.krb5ConfPath}`,
};
