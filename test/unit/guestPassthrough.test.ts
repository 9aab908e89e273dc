/**
 * Pure domain XML edits for VirtioFsPassthrough: what is added, replaced and taken out, the
 * ownership record in <metadata>, escaping, and input validation messages.
 */
import { applyPassthrough, desiredPassthrough, METADATA_NS, observePassthrough, removePassthrough } from "../../components/guest/domainEdit";
import { PassthroughSpec, validatePassthrough } from "../../components/guest/virtioFsPassthroughArgs";
import { formatProblem } from "../../core/errors";

const DOMAIN = `<domain type='qemu'>
  <name>vm1</name>
  <memory unit='KiB'>262144</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
  </os>
  <!-- a comment the user wrote -->
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><source file='/var/lib/libvirt/images/vm1 &amp; co.qcow2'/><target dev='vda' bus='virtio'/></disk>
  </devices>
</domain>
`;
const spec = (over: Partial<PassthroughSpec> = {}): PassthroughSpec => ({
  domain: "vm1",
  filesystems: [{ source: "/tank/share", tag: "share0", cache: "always" }],
  ...over,
});
const problems = (s: PassthroughSpec) => validatePassthrough(s).map(formatProblem);

describe("applyPassthrough", () => {
  it("adds a virtiofs filesystem, shared memfd memory and an ownership record, keeping the rest", () => {
    const out = applyPassthrough(DOMAIN, spec());
    expect(out).toContain('<filesystem type="mount" accessmode="passthrough"><driver type="virtiofs"/><binary><cache mode="always"/></binary><source dir="/tank/share"/><target dir="share0"/></filesystem>');
    expect(out).toContain('<memoryBacking><source type="memfd"/><access mode="shared"/></memoryBacking>');
    expect(out).toContain(`<kvmshare:passthrough xmlns:kvmshare="${METADATA_NS}"><kvmshare:owned tags="share0" vcpus="" emulatorpin="no" numatune="no" memoryBacking="created"/>`);
    expect(out).toContain("<!-- a comment the user wrote -->");
    expect(out).toContain("vm1 &amp; co.qcow2");
  });

  it("is idempotent: applying twice gives the same XML", () => {
    const once = applyPassthrough(DOMAIN, spec({ vcpuPins: [{ vcpu: 0, cpuset: "1" }], emulatorPin: "0", numaTune: { nodeset: "0" } }));
    expect(applyPassthrough(once, spec({ vcpuPins: [{ vcpu: 0, cpuset: "1" }], emulatorPin: "0", numaTune: { nodeset: "0" } }))).toBe(once);
  });

  it("replaces a filesystem whose tag it owns and drops tags that left the spec", () => {
    const two = applyPassthrough(DOMAIN, spec({ filesystems: [{ source: "/a", tag: "a" }, { source: "/b", tag: "b" }] }));
    const one = applyPassthrough(two, spec({ filesystems: [{ source: "/a2", tag: "a" }] }));
    expect(one.match(/<filesystem /g)).toHaveLength(1);
    expect(one).toContain('<source dir="/a2"/>');
    expect(one).not.toContain('<target dir="b"/>');
  });

  it("9p gets accessmode (mapped by default) and no shared memory", () => {
    const out = applyPassthrough(DOMAIN, spec({ filesystems: [{ source: "/a", tag: "p9", driver: "9p", readOnly: true }] }));
    expect(out).toContain('<filesystem type="mount" accessmode="mapped"><driver type="path" wrpolicy="immediate"/><source dir="/a"/><target dir="p9"/><readonly/></filesystem>');
    expect(out).not.toContain("<memoryBacking");
  });

  it("escapes source paths with XML metacharacters", () => {
    const out = applyPassthrough(DOMAIN, spec({ filesystems: [{ source: `/srv/a "b" & <c> 'd'`, tag: "t" }] }));
    expect(observePassthrough(out, spec({ filesystems: [{ source: "x", tag: "t" }] })).filesystems.t?.source).toBe(`/srv/a "b" & <c> 'd'`);
    expect(out).not.toContain("<c>");
  });

  it("amends an existing memoryBacking (hugepages kept) and leaves it on removal", () => {
    const withHuge = DOMAIN.replace("<vcpu", "<memoryBacking><hugepages/></memoryBacking>\n  <vcpu");
    const out = applyPassthrough(withHuge, spec());
    expect(out).toContain('<memoryBacking><hugepages/><source type="memfd"/><access mode="shared"/></memoryBacking>');
    expect(removePassthrough(out)).toContain("<hugepages/>");
  });

  it("removePassthrough takes out everything it added and only that", () => {
    const userPin = DOMAIN.replace("<os>", "<cputune><vcpupin vcpu='1' cpuset='0'/></cputune>\n  <os>");
    const out = applyPassthrough(userPin, spec({ vcpuPins: [{ vcpu: 0, cpuset: "1" }], numaTune: { nodeset: "0", mode: "preferred" } }));
    expect(out).toContain('<vcpupin vcpu="0" cpuset="1"/>');
    const back = removePassthrough(out);
    expect(back).not.toMatch(/filesystem|memoryBacking|numatune|kvmshare|metadata/);
    expect(back).toContain("<vcpupin vcpu=\"1\" cpuset=\"0\"/>");
    expect(back).not.toContain('vcpu="0"');
  });
});

describe("observe vs desired", () => {
  it("observing what apply wrote gives the desired state (no drift)", () => {
    const s = spec({ filesystems: [{ source: "/a", tag: "v", xattr: true, posixLock: false, queueSize: 512, threadPoolSize: 8 }, { source: "/b", tag: "n", driver: "9p", accessMode: "squash" }], vcpuPins: [{ vcpu: 1, cpuset: "0-1" }], emulatorPin: "0", numaTune: { nodeset: "0" } });
    expect(observePassthrough(applyPassthrough(DOMAIN, s), s)).toEqual(desiredPassthrough(s));
  });

  it("a filesystem that is missing is observed as null", () => {
    expect(observePassthrough(DOMAIN, spec()).filesystems).toEqual({ share0: null });
  });
});

describe("validatePassthrough", () => {
  it("refuses cache 'auto' (libvirt's schema does) and a non-passthrough accessmode for virtiofs", () => {
    const m = problems(spec({ filesystems: [{ source: "/a", tag: "t", cache: "auto" as never, accessMode: "mapped" }] })).join("\n");
    expect(m).toMatch(/filesystems\[0\].cache: must be 'always' or 'none' \(libvirt's schema refuses 'auto'/);
    expect(m).toMatch(/filesystems\[0\].accessMode: virtiofs only supports 'passthrough'/);
  });

  it("refuses read-only virtiofs (libvirt refuses it at define) and points at 9p or a read-only guest mount", () => {
    expect(problems(spec({ filesystems: [{ source: "/a", tag: "t", readOnly: true }] })).join()).toMatch(
      /filesystems\[0\].readOnly: libvirt refuses read-only virtiofs .* use driver '9p' with readOnly, or mount it read-only in the guest/,
    );
    expect(problems(spec({ filesystems: [{ source: "/a", tag: "t", driver: "9p", readOnly: true }] }))).toEqual([]);
  });

  it("refuses virtiofs-only settings on 9p, duplicate tags, bad cpusets", () => {
    const m = problems(
      spec({
        filesystems: [{ source: "/a", tag: "t", driver: "9p", cache: "always" }, { source: "/b", tag: "t" }],
        vcpuPins: [{ vcpu: 0, cpuset: "one" }, { vcpu: 0, cpuset: "1" }],
        emulatorPin: "0-",
        numaTune: { nodeset: "x" },
      }),
    );
    expect(m).toEqual([
      "filesystems[0].cache: only applies to driver 'virtiofs' (got 'always')",
      "filesystems[1].tag: is already used by filesystems[0]: tags must be unique (got 't')",
      "vcpuPins[0].cpuset: must be a cpuset like 2, 2-3 or 0,2 (got 'one')",
      "vcpuPins[1].vcpu: is pinned twice (got 0)",
      "emulatorPin: must be a cpuset like 0 or 0-1 (got '0-')",
      "numaTune.nodeset: must be a node set like 0 or 0-1 (got 'x')",
    ]);
  });

  it("refuses relative sources, bad URIs and empty specs", () => {
    const m = problems({ domain: "vm", uri: "system", filesystems: [] }).join("\n");
    expect(m).toMatch(/uri: must be a libvirt URI/);
    expect(m).toMatch(/filesystems: nothing to do/);
    expect(problems(spec({ filesystems: [{ source: "tank", tag: "t" }] })).join()).toMatch(/filesystems\[0\].source: must be an absolute path/);
  });
});
