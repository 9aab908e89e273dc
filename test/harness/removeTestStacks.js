/**
 * Jest global teardown of the lanes that stand stacks up with the real engine (CliEngine): the
 * inline stacks' project directories live under <checkout>/.test-stacks (the provider plugin
 * finds kvmshare by walking up from there) and jest's workers never run a process `exit` hook,
 * so they are removed here, once the lane is done. Their state lives in each test's temp dir.
 */
const fs = require("fs");
const path = require("path");

module.exports = async function removeTestStacks() {
  fs.rmSync(path.join(__dirname, "..", "..", ".test-stacks"), { recursive: true, force: true });
};
