/**
 * Jest's own order (failed first, then slowest first), except that the files needing a program a
 * cold CI run builds in the background while the lanes run (Vault: .ci/run) go last, so they wait
 * for that build as little as possible.
 */
const Sequencer = require("@jest/test-sequencer").default;

const LATE = /vault/i;

class LateLastSequencer extends Sequencer {
  sort(tests) {
    const late = (order) => [...order.filter((t) => !LATE.test(t.path)), ...order.filter((t) => LATE.test(t.path))];
    const sorted = super.sort(tests);
    return Array.isArray(sorted) ? late(sorted) : Promise.resolve(sorted).then(late);
  }
}

module.exports = LateLastSequencer;
