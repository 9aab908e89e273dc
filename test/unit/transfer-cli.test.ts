import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Command } from "commander";
import { parseCopyCommand } from "../../cli/copy";
import { buildProgram, main } from "../../cli/kvmshare";
import { EXIT_CODES, TransferError } from "../../transfer/errors";
import { knownHostFingerprint, parseRemote } from "../../transfer/remote";

describe("parseRemote", () => {
  it.each([
    ["root@host:/srv/x", { user: "root", host: "host", path: "/srv/x" }],
    ["host:rel/x", { user: undefined, host: "host", path: "rel/x" }],
    ["me@10.0.0.2:", { user: "me", host: "10.0.0.2", path: "./" }],
    ["u@[fd00::1]:/a b", { user: "u", host: "fd00::1", path: "/a b" }],
  ])("%s is remote", (spec, want) => expect(parseRemote(spec)).toEqual(want));
  it.each(["/mnt/share/x", "./a:b", "relative/file", "C", "/x/y:z"])("%s is local", (spec) => expect(parseRemote(spec)).toBeUndefined());
});

describe("parseCopyCommand", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-cli-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "id")]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("local copy: resolves paths, verify on and resume off by default", () => {
    const p = parseCopyCommand("a.img", "out/", {});
    expect(p.target).toEqual({ kind: "local", path: path.resolve("out") + "/" });
    expect(parseCopyCommand("a.img", "out", {}).target).toEqual({ kind: "local", path: path.resolve("out") });
    expect(p.source).toBe(path.resolve("a.img"));
    expect(p.options).toMatchObject({ verify: true, resume: false, streams: undefined });
  });

  it("reads --streams, --chunk, --no-verify, --resume, --hash", () => {
    const p = parseCopyCommand("a", "b", { streams: "8", chunk: "16M", verify: false, resume: true, hash: "sha256" });
    expect(p.options).toMatchObject({ streams: 8, chunkSize: 16 * 1024 * 1024, verify: false, resume: true, hash: "sha256" });
    expect(parseCopyCommand("a", "b", {}).options.hash).toBeUndefined(); // the engine picks
  });

  it.each([
    [{ streams: "0" }, /--streams: expected an integer from 1 to 64 \(got '0'\)/],
    [{ streams: "2.5" }, /--streams/],
    [{ chunk: "1K" }, /--chunk: expected a size from 4K to 4G .*got '1K'/],
    [{ chunk: "lots" }, /--chunk/],
    [{ port: "22" }, /--port only apply to an SSH destination/],
    [{ insecureIgnoreHostKey: true }, /--insecure-ignore-host-key only apply/],
  ])("rejects %j with a message naming the flag", (o, re) => {
    expect(() => parseCopyCommand("a", "b", o)).toThrow(re);
    try {
      parseCopyCommand("a", "b", o);
    } catch (e) {
      expect((e as TransferError).code).toBe("USAGE");
    }
  });

  it("rejects a remote source", () => {
    expect(() => parseCopyCommand("host:/x", "/tmp/y", {})).toThrow(/SRC must be a local path/);
  });

  it("SSH destination: key, port, ciphers, pinned host key", () => {
    const fp = "SHA256:" + "A".repeat(43);
    const p = parseCopyCommand("a", "bob@guest:/srv/in", { identity: path.join(dir, "id"), port: "2222", cipher: ["aes128-gcm@openssh.com,aes256-gcm@openssh.com"], hostKey: fp, connections: "2" });
    expect(p.target.kind).toBe("ssh");
    if (p.target.kind !== "ssh") return;
    expect(p.target.path).toBe("/srv/in");
    expect(p.target.connections).toBe(2);
    expect(p.target.connection).toMatchObject({ host: "guest", user: "bob", port: 2222, hostKeySha256: fp, ciphers: ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"] });
    expect(p.target.connection.privateKey).toContain("OPENSSH PRIVATE KEY");
  });

  it("--transport and --multiplex: passed to the SSH target, refused for a local DST or with the other transport's option", () => {
    const fp = "SHA256:" + "A".repeat(43);
    const base = { identity: path.join(dir, "id"), hostKey: fp };
    const p = parseCopyCommand("a", "guest:/srv/in", { ...base, transport: "openssh", multiplex: true });
    expect(p.target).toMatchObject({ kind: "ssh", transport: "openssh", multiplex: true });
    expect(() => parseCopyCommand("a", "/tmp/x", { transport: "sftp" })).toThrow(/--transport only apply to an SSH destination/);
    expect(() => parseCopyCommand("a", "guest:/srv/in", { ...base, transport: "openssh", connections: "2" })).toThrow(/--connections .* applies to --transport sftp/);
    expect(() => parseCopyCommand("a", "guest:/srv/in", { ...base, transport: "sftp", multiplex: true })).toThrow(/--multiplex applies to the openssh transport/);
  });

  it("SSH destination: refuses a malformed host key and an unknown host", () => {
    expect(() => parseCopyCommand("a", "guest:/x", { identity: path.join(dir, "id"), hostKey: "md5:xx" })).toThrow(/--host-key: expected a fingerprint like SHA256/);
    const knownHosts = path.join(dir, "known_hosts_empty");
    fs.writeFileSync(knownHosts, "");
    const prev = process.env.HOME;
    process.env.HOME = dir; // ~/.ssh/known_hosts is absent here
    try {
      expect(() => parseCopyCommand("a", "guest:/x", { identity: path.join(dir, "id") })).toThrow(/not in known_hosts: pass --host-key/);
    } finally {
      process.env.HOME = prev;
    }
  });

  it("finds the host key fingerprint in a known_hosts file, hashed names too", () => {
    const pub = fs.readFileSync(path.join(dir, "id.pub"), "utf8").trim().split(" ");
    const kh = path.join(dir, "known_hosts");
    fs.writeFileSync(kh, `[guest]:2222 ${pub[0]} ${pub[1]}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", kh], { stdio: "ignore" });
    expect(fs.readFileSync(kh, "utf8")).toMatch(/^\|1\|/);
    const expected = execFileSync("ssh-keygen", ["-l", "-f", path.join(dir, "id.pub")]).toString().split(" ")[1];
    expect(knownHostFingerprint("guest", 2222, kh)).toBe(expected);
    expect(knownHostFingerprint("guest", 22, kh)).toBeUndefined();
  });
});

describe("kvmshare program", () => {
  let err: jest.SpyInstance;
  let out: jest.SpyInstance;
  beforeEach(() => {
    err = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    out = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
  });
  afterEach(() => {
    err.mockRestore();
    out.mockRestore();
  });

  it("registers subcommands through register(program)", () => {
    const names = buildProgram().commands.map((c: Command) => c.name());
    expect(names).toContain("copy");
  });

  it.each([
    [["copy"], EXIT_CODES.USAGE],
    [["copy", "a"], EXIT_CODES.USAGE],
    [["copy", "--bogus", "a", "b"], EXIT_CODES.USAGE],
    [["copy", "--streams", "x", "a", "b"], EXIT_CODES.USAGE],
    [["copy", "--progress", "fancy", "a", "b"], EXIT_CODES.USAGE],
    [["nope"], EXIT_CODES.USAGE],
    [["copy", "--help"], 0],
    [["copy", "/nonexistent/kvmshare-src", "/tmp/x"], EXIT_CODES.SOURCE],
  ])("kvmshare %j exits %i", async (args, code) => {
    await expect(main(["node", "kvmshare", ...args])).resolves.toBe(code);
  });

  it("--cipher takes one value (comma-separated or repeated) and leaves SRC and DST alone", () => {
    const program = buildProgram();
    const copyCmd = program.commands.find((c: Command) => c.name() === "copy")!;
    copyCmd.action(() => undefined);
    program.parse(["node", "kvmshare", "copy", "--cipher", "aes128-gcm@openssh.com", "--cipher", "chacha20-poly1305@openssh.com", "src", "host:/dst"]);
    expect(copyCmd.args).toEqual(["src", "host:/dst"]);
    expect(copyCmd.opts().cipher).toEqual(["aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"]);
  });

  it("documents every exit code in --help", async () => {
    await main(["node", "kvmshare", "copy", "--help"]);
    const help = out.mock.calls.map((c) => String(c[0])).join("");
    for (const code of new Set(Object.values(EXIT_CODES))) expect(help).toContain(`${code} `);
    expect(help).toMatch(/--no-verify/);
    expect(help).toMatch(/--resume/);
  });
});
