/**
 * Jest's node environment, plus the real `process` object as `__hostProcess` for the one harness
 * that needs it (test/harness/cliEngine.ts). A test file's `process` is Jest's copy: a listener
 * added to it never hears the real process's events. Inline Pulumi programs run in the test
 * process, and Pulumi's runtime deliberately re-raises the rejection of registrations cut off by
 * the engine's shutdown ("Resource monitor is terminating") as unhandled, after the operation
 * returned; Jest fails the file for each one. cliEngine marks those handled on the real process.
 */
const { TestEnvironment } = require("jest-environment-node");

class KvmshareEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.__hostProcess = process;
  }
}

module.exports = KvmshareEnvironment;
