// A binary min-heap of timed events; equal times pop in insertion order, so runs are deterministic.

interface Slot<T> {
  time: number;
  sequence: number;
  item: T;
}

export class EventQueue<T> {
  readonly #heap: Slot<T>[] = [];
  #sequence = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(time: number, item: T): void {
    const heap = this.#heap;
    heap.push({ time, sequence: this.#sequence++, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Slot<T>, heap[parent] as Slot<T>)) {
        break;
      }
      swap(heap, i, parent);
      i = parent;
    }
  }

  peekTime(): number | undefined {
    return this.#heap[0]?.time;
  }

  pop(): { time: number; item: T } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) {
      return undefined;
    }
    const last = heap.pop() as Slot<T>;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left] as Slot<T>, heap[smallest] as Slot<T>)) {
          smallest = left;
        }
        if (right < heap.length && before(heap[right] as Slot<T>, heap[smallest] as Slot<T>)) {
          smallest = right;
        }
        if (smallest === i) {
          break;
        }
        swap(heap, i, smallest);
        i = smallest;
      }
    }
    return { time: top.time, item: top.item };
  }
}

function before<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.time < b.time || (a.time === b.time && a.sequence < b.sequence);
}

function swap<T>(heap: Slot<T>[], i: number, j: number): void {
  const t = heap[i] as Slot<T>;
  heap[i] = heap[j] as Slot<T>;
  heap[j] = t;
}
