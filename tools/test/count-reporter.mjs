// A node:test reporter for tools/test/run.mjs: it prints nothing while tests run and, at the end,
// one JSON line with what the run counted ({ passed, failed, skipped, files: { path: ms } }).
//
// What counts, so that every test is counted once and no failure goes unseen:
// - a test without subtests counts once: skipped (`skip`, `todo`, or `t.skip()`), failed (a failure
//   or a cancellation, e.g. by a failing `before`), or passed;
// - a suite, or a test with subtests, counts its subtests only; it counts one failure of its own
//   only when it failed with none of its subtests failing (a failing `after` hook, say), and one
//   skip when it was skipped as a whole (node does not report the tests of a skipped suite);
// - a file that fails outside any test (it crashed, or exited non-zero) counts one failure.
// node's own summary leaves out the hook failures and the tests of skipped suites; this does not.

export default async function* countReporter(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const files = {};
  // Per nesting level: whether the test being built at that level had subtests, and how many
  // failures were counted below it. node reports each test after its subtests, and one file's
  // events together (not by `data.file`: that is where `test()` was called, maybe a helper's file).
  const state = [];

  for await (const event of source) {
    if (event.type === 'test:complete' && event.data.nesting === 0 && event.data.name === event.data.file) {
      files[event.data.file] = Math.round(event.data.details.duration_ms ?? 0);
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { nesting, skip, todo, details } = event.data;
    const here = state[nesting] ?? { children: false, failures: 0 };
    state[nesting] = { children: false, failures: 0 };
    if (nesting > 0) state[nesting - 1] = { failures: 0, ...state[nesting - 1], children: true };
    const container = here.children || details?.type === 'suite';

    let failure = false;
    if (skip) skipped += 1;
    else if (container) failure = event.type === 'test:fail' && here.failures === 0 && !todo;
    else if (todo) skipped += 1;
    else if (event.type === 'test:fail') failure = true;
    else passed += 1;
    if (!failure) continue;
    failed += 1;
    for (let level = 0; level < nesting; level += 1) {
      const entry = state[level] ?? { children: false, failures: 0 };
      state[level] = { ...entry, failures: entry.failures + 1 };
    }
  }
  yield `${JSON.stringify({ passed, failed, skipped, files })}\n`;
}
