/**
 * The life cycle users get from `pulumi up` / `pulumi preview --refresh --expect-no-changes` /
 * `pulumi destroy`, proven through the real engine (the CLI) on a real managed file.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ManagedFile } from "../../components/files";
import { HostResource } from "../../core/hostResource";
import { testEngine, TestEngine } from "../harness/testEngine";

jest.setTimeout(120_000);

describe("harness life cycle on a managed config file", () => {
  let dir: string;
  let engine: TestEngine;
  let file: string;
  const program = (content: string) => () => {
    new ManagedFile("conf", { file: { path: file, content, mode: "0640" } });
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-harness-"));
    file = path.join(dir, "app.conf");
    engine = testEngine({ stateFile: path.join(dir, "state.json") });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("creates the file on the first up", async () => {
    const r = await engine.up(program("a = 1\n"));
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.op)).toEqual(["create"]);
    expect(fs.readFileSync(file, "utf8")).toBe("a = 1\n");
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("640");
    expect(r.outputs.conf.observed).toMatchObject({ content: "a = 1\n", mode: "0640" });
  });

  it("changes nothing on a second up", async () => {
    const r = await engine.up(program("a = 1\n"));
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
  });

  it("preview --refresh reports a hand edit, naming the drifted field", async () => {
    fs.writeFileSync(file, "a = 2 # edited by hand\n");
    const p = await engine.preview(program("a = 1\n"), { refresh: true });
    expect(p.errors).toEqual([]);
    const update = p.changes.find((s) => s.op === "update");
    expect(update?.diffs).toContain("spec.content");
    // preview touched nothing
    expect(fs.readFileSync(file, "utf8")).toBe("a = 2 # edited by hand\n");
  });

  it("preview without refresh does not see the edit (that is what --refresh is for)", async () => {
    fs.writeFileSync(file, "a = 1\n");
    await engine.refresh();
    fs.writeFileSync(file, "a = 3\n");
    const p = await engine.preview(program("a = 1\n"));
    expect(p.changes).toEqual([]);
  });

  it("the next up puts the file back", async () => {
    await engine.refresh();
    const r = await engine.up(program("a = 1\n"));
    expect(r.changes.map((s) => s.op)).toEqual(["update"]);
    expect(fs.readFileSync(file, "utf8")).toBe("a = 1\n");
    const again = await engine.preview(program("a = 1\n"), { refresh: true });
    expect(again.changes.filter((s) => s.op !== "refresh")).toEqual([]);
  });

  it("a mode changed by hand is drift too", async () => {
    fs.chmodSync(file, 0o666);
    const p = await engine.preview(program("a = 1\n"), { refresh: true });
    expect(p.changes.find((s) => s.op === "update")?.diffs).toContain("spec.mode");
    await engine.up(program("a = 1\n"), { refresh: true });
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("640");
  });

  it("a resource that left the program is deleted by up", async () => {
    const r = await engine.up(() => undefined);
    expect(r.changes.map((s) => s.op)).toEqual(["delete"]);
    expect(fs.existsSync(file)).toBe(false);
    expect(engine.state()).toEqual([]);
  });

  it("destroy removes what up created", async () => {
    await engine.up(program("b = 1\n"));
    expect(fs.existsSync(file)).toBe(true);
    const d = await engine.destroy();
    expect(d.steps.map((s) => s.op)).toEqual(["delete"]);
    expect(fs.existsSync(file)).toBe(false);
  });

  it("invalid inputs fail at preview with the field and the fix, before the host changes", async () => {
    const p = await engine.preview(() => {
      new ManagedFile("bad", { file: { path: "relative/x.conf", content: "x", mode: "0999" } });
    });
    expect(p.errors.join("\n")).toMatch(/path: must be an absolute path .*got 'relative\/x.conf'/);
    expect(p.errors.join("\n")).toMatch(/mode: must be an octal mode/);
  });

  it("keeps secret inputs out of the state file and the outputs in plain text", async () => {
    const r = await engine.up(() => {
      new HostResource("ManagedFile", "with-secret", {
        spec: { path: file, content: "no secret here\n" },
        secrets: { password: "hunter2-very-secret" },
      });
    });
    expect(r.errors).toEqual([]);
    const raw = engine.storedText();
    expect(raw).not.toContain("hunter2-very-secret");
    expect(raw).toContain("ciphertext");
    // ...but the engine can still hand it to the provider (decrypted state).
    expect(engine.state()[0].outputs.secrets).toEqual({ password: "hunter2-very-secret" });
    await engine.destroy();
  });
});
