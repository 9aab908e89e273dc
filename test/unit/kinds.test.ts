/** The kind registry: every id loads a kind of that name, and every kind a component creates is registered. */
import * as fs from "fs";
import * as path from "path";
import { KINDS, kindEntry } from "../../provider/kinds";

const ROOT = path.resolve(__dirname, "../..");

describe("kind registry", () => {
  it.each(Object.keys(KINDS))("%s loads a kind of that name", (id) => {
    expect(kindEntry(id).load().name).toBe(id);
  });

  it("registers every kind module under components/", () => {
    const modules = fs
      .readdirSync(path.join(ROOT, "components"), { recursive: true, encoding: "utf8" })
      .filter((f) => /Kind\.ts$/.test(f))
      .map((f) => path.join(ROOT, "components", f))
      .filter((f) => /export const kind\b/.test(fs.readFileSync(f, "utf8")));
    const names = modules.map((f) => (require(f) as { kind: { name: string } }).kind.name).sort();
    expect(names.length).toBeGreaterThan(15);
    expect(names).toEqual(Object.keys(KINDS).sort());
  });

  it("refuses an id it does not know, naming the ones it does", () => {
    expect(() => kindEntry("__proto__")).toThrow(/no host kind '__proto__'/);
  });
});
