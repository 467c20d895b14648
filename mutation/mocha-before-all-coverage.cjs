// Loaded by mocha in Stryker's test runner only (`mochaOptions.require` in stryker.config.mjs).
//
// Why: with perTest coverage, Stryker's mocha runner notes which test is running in a root `beforeEach`, so
// code that a suite's `before` hook runs is counted for whichever test ran last, in another suite (or as
// static, before the first test). The suites that build a cluster once in `before` and compare its resources
// in their tests would then never be run against the mutants they alone detect. Here the code a `before`
// hook runs is counted for every test of the hook's suite, which are the tests that need the hook.
"use strict";
const { Runner } = require("mocha");

const hook = Runner.prototype.hook;
Runner.prototype.hook = function (name, fn) {
    const ns = globalThis.__stryker__;
    if (name !== "beforeAll" || ns === undefined) {
        return hook.call(this, name, fn);
    }
    const suite = this.suite;
    const previous = ns.currentTestId;
    const marker = `\u0000before all hooks of ${suite.fullTitle()}`;
    ns.currentTestId = marker;
    return hook.call(this, name, (...args) => {
        ns.currentTestId = previous;
        const perTest = ns.mutantCoverage && ns.mutantCoverage.perTest;
        const covered = perTest && perTest[marker];
        if (covered) {
            delete perTest[marker];
            for (const test of testsOf(suite)) {
                const counts = (perTest[test.fullTitle()] = perTest[test.fullTitle()] || {});
                for (const [mutant, hits] of Object.entries(covered)) {
                    counts[mutant] = (counts[mutant] || 0) + hits;
                }
            }
        }
        return fn(...args);
    });
};

function testsOf(suite) {
    return [...suite.tests, ...suite.suites.flatMap(testsOf)];
}
