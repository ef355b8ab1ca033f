/**
 * The example app's access matrix: every flow its README promises is allowed and every attack
 * denied, as an independent IAM engine evaluates the synthesized policies together.
 */
import { exampleAccessModel, matrixCases, MatrixResult, runMatrix } from '../../examples/access-matrix';

let results: Map<string, MatrixResult>;
beforeAll(() => {
  results = new Map(runMatrix(exampleAccessModel()).map((r) => [`${r.stack}: ${r.name}`, r]));
});

describe.each([...new Set(matrixCases().map((c) => c.stack))])('%s', (stack) => {
  test.each(matrixCases().filter((c) => c.stack === stack).map((c) => [c.expect, c.name]))('%s: %s', (expected, name) => {
    const r = results.get(`${stack}: ${name}`)!;
    expect({ case: name, decision: r.actual, deniedBy: r.deniedBy }).toEqual({ case: name, decision: expected, deniedBy: expect.any(Array) });
  });
});
