/**
 * The example app's access matrix: every flow its README promises is allowed and every attack
 * denied, as an independent IAM engine evaluates the synthesized policies together.
 */
import { DECIDED_BY, exampleAccessModel, matrixCases, MatrixResult, runMatrix } from '../../examples/access-matrix';

let results: Map<string, MatrixResult>;
beforeAll(() => {
  results = new Map(runMatrix(exampleAccessModel()).map((r) => [`${r.stack}: ${r.name}`, r]));
});

describe.each([...new Set(matrixCases().map((c) => c.stack))])('%s', (stack) => {
  test.each(matrixCases().filter((c) => c.stack === stack).map((c) => [c.expect, c.name]))('%s: %s', (expected, name) => {
    const r = results.get(`${stack}: ${name}`)!;
    expect({ case: name, decision: r.actual }).toEqual({ case: name, decision: expected });
    // A denial must come from the statement (or leg) meant to refuse it, not from another one.
    if (expected === 'DENIED') expect({ case: name, deniedBy: r.deniedBy, decidedBy: r.decidedBy, ok: r.ok }).toEqual({ case: name, deniedBy: r.deniedBy, decidedBy: r.decidedBy, ok: true });
  });
});

test('every attack of the matrix names what must refuse it', () => {
  const unnamed = matrixCases().filter((c) => c.expect === 'DENIED' && DECIDED_BY[c.name] === undefined).map((c) => c.name);
  expect(unnamed).toEqual([]);
});
