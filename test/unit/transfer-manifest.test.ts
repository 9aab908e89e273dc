import { manifestMismatch, manifestPath, newManifest, parseManifest, partPath, serializeManifest } from "../../transfer/manifest";

const source = { path: "/data/disk.img", size: 1000, mtimeMs: 1_700_000_000_000 };
const HEX = "a".repeat(64);

describe("manifest", () => {
  it("lives next to the part file", () => {
    expect(partPath("/mnt/x/disk.img")).toBe("/mnt/x/disk.img.part");
    expect(manifestPath("/mnt/x/disk.img")).toBe("/mnt/x/disk.img.part.manifest");
  });

  it("round-trips through JSON", () => {
    const m = newManifest(source, 256);
    m.chunks["2"] = HEX;
    const back = parseManifest(serializeManifest(m));
    expect(back.problem).toBeUndefined();
    expect(back.manifest).toEqual(m);
  });

  it.each([
    ["not json", "{", /not valid JSON/],
    ["another format", JSON.stringify({ format: "x" }), /format/],
    ["another hash", JSON.stringify({ ...newManifest(source, 1), hash: "md5" }), /hash 'md5' is not one of sha256, xxh128/],
    ["a sha256 digest in an xxh128 manifest", JSON.stringify({ ...newManifest(source, 1, "xxh128"), chunks: { "0": HEX } }), /chunk entry '0'/],
    ["a bad chunk entry", JSON.stringify({ ...newManifest(source, 1), chunks: { "0": "zz" } }), /chunk entry '0'/],
    ["no source", JSON.stringify({ ...newManifest(source, 1), source: null }), /source identity/],
  ])("rejects %s", (_what, text, re) => {
    const r = parseManifest(text);
    expect(r.manifest).toBeUndefined();
    expect(r.problem).toMatch(re);
  });

  it("is usable only for the same source and chunk size", () => {
    const m = newManifest(source, 256);
    expect(manifestMismatch(m, source, 256)).toBeUndefined();
    expect(manifestMismatch(m, { ...source, size: 1001 }, 256)).toMatch(/source changed .*size 1000 -> 1001/);
    expect(manifestMismatch(m, { ...source, mtimeMs: source.mtimeMs + 5000 }, 256)).toMatch(/source changed .*mtime 2023-11-14T22:13:20.000Z -> 2023-11-14T22:13:25.000Z/);
    expect(manifestMismatch(m, { ...source, path: "/other" }, 256)).toMatch(/came from \/data\/disk.img/);
    expect(manifestMismatch(m, source, 512)).toMatch(/--chunk 256/);
  });

  it("records its hash algorithm; another algorithm cannot reuse it, and the message names the flag", () => {
    const m = newManifest(source, 256, "xxh128");
    m.chunks["0"] = "b".repeat(32);
    expect(parseManifest(serializeManifest(m)).manifest).toEqual(m);
    expect(manifestMismatch(m, source, 256, "xxh128")).toBeUndefined();
    expect(manifestMismatch(m, source, 256, "sha256")).toBe("the partial copy recorded xxh128 hashes, this run uses sha256 (pass --hash xxh128 to reuse it)");
  });
});
