/**
 * pipeCommands (the send -> receive stream) with plain commands: a direct kernel pipe between
 * two local processes, a counted relay through Node, and failures on either side reported with
 * that side's command, exit code and stderr.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalHost } from "../../core/connection";
import { PipeError, pipeCommands } from "../../components/storage/zfsStream";

describe("streaming one command into another", () => {
  const host = new LocalHost();
  let dir: string;
  let src: string;
  let sum: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-stream-"));
    src = path.join(dir, "src.bin");
    const data = crypto.randomBytes(9 * 1024 * 1024 + 17);
    fs.writeFileSync(src, data);
    sum = crypto.createHash("sha256").update(data).digest("hex");
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sha = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

  it("local to local goes through a direct pipe and arrives intact", async () => {
    const out = path.join(dir, "direct.bin");
    const r = await pipeCommands(host, ["cat", src], host, ["sh", "-c", 'cat > "$1"', "sh", out]);
    expect(r.via).toBe("direct");
    expect(r.bytes).toBeUndefined();
    expect(sha(out)).toBe(sum);
  });

  it("a counted relay reports the exact bytes and arrives intact", async () => {
    const out = path.join(dir, "relay.bin");
    let last = 0;
    const r = await pipeCommands(host, ["cat", src], host, ["sh", "-c", 'cat > "$1"', "sh", out], { onProgress: (b) => (last = b) });
    expect(r.via).toBe("relay");
    expect(r.bytes).toBe(9 * 1024 * 1024 + 17);
    expect(last).toBe(r.bytes);
    expect(r.mibPerSec).toBeGreaterThan(0);
    expect(sha(out)).toBe(sum);
  });

  it.each([["direct", {}], ["relay", { countBytes: true }]] as const)("%s: a failing receiver is reported with its stderr and the sender is stopped", async (_, opts) => {
    const err = await pipeCommands(host, ["cat", "/dev/zero"], host, ["sh", "-c", "head -c 1000 >/dev/null; echo 'cannot receive: refused' >&2; exit 3"], opts).catch((e) => e);
    expect(err).toBeInstanceOf(PipeError);
    expect(err.targetCode).toBe(3);
    expect(err.message).toMatch(/pipe failed: sh -c .* on local \(exit 3\): cannot receive: refused/);
  });

  it.each([["direct", {}], ["relay", { countBytes: true }]] as const)("%s: a failing sender is reported with its stderr", async (_, opts) => {
    const err = await pipeCommands(host, ["cat", path.join(dir, "missing")], host, ["sh", "-c", "cat >/dev/null"], opts).catch((e) => e);
    expect(err).toBeInstanceOf(PipeError);
    expect(err.sourceCode).toBe(1);
    expect(err.message).toMatch(/cat .*missing on local \(exit 1\): cat: .*No such file or directory/);
  });
});
