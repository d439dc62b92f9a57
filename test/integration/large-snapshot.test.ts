// A follower that fell behind the leader's compaction point catches up by a snapshot larger than
// the peer frame limit (16 MiB): the leader streams it in chunks, the follower reassembles it.
import { afterEach, expect, it } from "vitest";
import { DEFAULT_FRAME_BYTES_MAX } from "../../node/server/transport/frame-codec.js";
import { logRecords, tearDownCluster, TestCluster, waitFor } from "./cluster-helpers.js";

const KEYS = 200;
const VALUE_BYTES = 128 * 1024;
/** Puts in flight at once: one frame each (the client port takes 1 MiB frames). */
const PUTS_IN_FLIGHT = 8;

let cluster: TestCluster | undefined;

afterEach(async (context) => {
  cluster = await tearDownCluster(cluster, context.task.result?.state === "fail");
});

function valueOf(key: number): string {
  return `value of key ${key}:`.padEnd(VALUE_BYTES, String.fromCharCode(97 + (key % 26)));
}

it("a follower catches up by a snapshot larger than the frame limit", async () => {
  cluster = await TestCluster.create({ size: 3, flags: ["--snapshot-every", "150"] });
  const c = cluster;
  await c.put("before", "1");
  const leader = await c.waitForLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  await c.kill(follower);

  for (let first = 0; first < KEYS; first += PUTS_IN_FLIGHT) {
    const batch = Array.from({ length: Math.min(PUTS_IN_FLIGHT, KEYS - first) }, (_, k) => first + k);
    await Promise.all(batch.map((key) => c.put(`big-${key}`, valueOf(key))));
  }
  // Local snapshots are serialised in slices over later turns of the leader's loop: the log line
  // comes some time after the last put was answered.
  const snapshots = await waitFor("the leader's snapshot over the frame limit", 20_000, async () => {
    const taken = logRecords(c.node(leader).output).filter((r) => r.msg === "took a snapshot and compacted the log");
    return taken.some((r) => Number(r["bytes"]) > DEFAULT_FRAME_BYTES_MAX) ? taken : undefined;
  });
  expect(Math.max(...snapshots.map((r) => Number(r["bytes"])))).toBeGreaterThan(DEFAULT_FRAME_BYTES_MAX);

  await c.start(follower);
  const leaderNow = await c.waitForLeader(15_000);
  const commit = (await c.status(leaderNow))!.commit;
  await waitFor(`node ${follower} to apply up to ${commit}`, 40_000, async () => {
    const status = await c.status(follower);
    return status !== undefined && status.applied >= commit ? true : undefined;
  });

  const followerLog = logRecords(c.node(follower).output);
  const received = followerLog.filter((r) => r.msg === "transport: received a snapshot in chunks");
  expect(received.length).toBeGreaterThan(0);
  expect(Number(received.at(-1)!["bytes"])).toBeGreaterThan(DEFAULT_FRAME_BYTES_MAX);
  expect(followerLog.some((r) => r.msg === "installed a snapshot from the leader")).toBe(true);

  // Led by the caught-up follower, the cluster serves the latest values.
  await c.makeLeader(follower);
  expect(await c.get(`big-${KEYS - 1}`, follower)).toBe(valueOf(KEYS - 1));
  expect(await c.get("big-0", follower)).toBe(valueOf(0));
  expect(await c.get("before", follower)).toBe("1");
}, 90_000);
