/** Three lanes: unit (fast, no host changes), integration (real daemons on this machine),
 *  vm (a stock Debian guest under QEMU/TCG). `npm test` runs unit + integration. */
const base = {
  preset: "ts-jest",
  testEnvironment: "<rootDir>/test/harness/nodeEnvironment.js",
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  moduleNameMapper: { "^kvmshare$": "<rootDir>/index.ts", "^kvmshare/dist/(.*)$": "<rootDir>/$1", "^kvmshare/(.*)$": "<rootDir>/$1" },
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
  setupFiles: ["<rootDir>/test/setupEnv.js"],
};
module.exports = {
  // Global (Jest takes no per-project sequencer): the Vault files last, see the file.
  testSequencer: "<rootDir>/test/harness/sequencer.js",
  projects: [
    { ...base, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...base, displayName: "integration", testMatch: ["<rootDir>/test/integration/**/*.test.ts"], slowTestThreshold: 30, globalTeardown: "<rootDir>/test/harness/removeTestStacks.js" },
    { ...base, displayName: "vm", testMatch: ["<rootDir>/test/vm/**/*.test.ts"], slowTestThreshold: 120, globalTeardown: "<rootDir>/test/harness/removeTestStacks.js" },
  ],
};
