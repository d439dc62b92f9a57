import { expect, test } from "vitest";
import { majority } from "./majority.js";

test("majority is the smallest count above half", () => {
  expect([0, 1, 2, 3, 4, 5, 6, 7, 9].map(majority)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5]);
  for (let n = 1; n <= 100; n += 1) {
    expect(majority(n) * 2).toBeGreaterThan(n);
    expect((majority(n) - 1) * 2).toBeLessThanOrEqual(n);
  }
});
