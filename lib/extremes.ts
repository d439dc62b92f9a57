// Largest value of a list of any length. Math.max(...values) passes every value as an argument, and
// past about 100,000 of them (a long run's operations) that overflows the call stack.

/** The largest of `values`, or `floor` when it is larger (and for an empty list). */
export function maxOf(values: Iterable<number>, floor = -Infinity): number {
  let largest = floor;
  for (const value of values) {
    if (value > largest) {
      largest = value;
    }
  }
  return largest;
}
