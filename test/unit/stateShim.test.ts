/**
 * State written before the provider layer moved (kvmshare up to 0.1.x, provider format 2) holds a
 * serialized provider that loads `kvmshare/dist/core/providerImpl` (or, in a checkout,
 * `core/providerImpl.ts`). That path must keep answering with the same implementation.
 */
import * as path from "path";

describe("state shim core/providerImpl", () => {
  it("re-exports the provider implementation of provider/ (same functions, not a copy)", () => {
    const shim = require("../../core/providerImpl");
    const impl = require("../../provider/providerImpl");
    const ops = ["check", "diff", "create", "read", "update", "remove"];
    for (const op of ops) {
      expect(typeof impl[op]).toBe("function");
      expect(shim[op]).toBe(impl[op]);
    }
    expect(shim.PROVIDER_FORMAT).toBe(impl.PROVIDER_FORMAT);
  });

  it("is what the package path named by old state resolves to (through the package mapping)", () => {
    // jest maps kvmshare/dist/<x> to the sources, as the program's node_modules/kvmshare/dist does.
    const old = require("kvmshare/dist/core/providerImpl");
    expect(old.create).toBe(require("../../provider/providerImpl").create);
    expect(path.basename(require.resolve("kvmshare/dist/core/providerImpl"))).toBe("providerImpl.ts");
  });
});
