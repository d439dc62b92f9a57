// Follower, preCandidate and candidate behaviour (etcd stepFollower/stepCandidate/tickElection)
// and the follower's handling of the leader's app, heartbeat and snap messages.
import type { Message } from "./messages.js";
import { NONE } from "./messages.js";
import { ProposalDroppedError } from "./errors.js";
import { assert } from "../../lib/assert.js";
import { newMessage, type Raft } from "./raft.js";

export function tickElection(r: Raft): void {
  r.electionElapsed++;
  if (r.promotable() && r.electionElapsed >= r.randomizedElectionTimeout) {
    r.electionElapsed = 0;
    r.step(newMessage("hup", r.id, { from: r.id }));
  }
}

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case "prop":
      if (r.lead === NONE) {
        throw new ProposalDroppedError(`node ${r.id} knows no leader at term ${r.term}`);
      }
      r.send({ ...m, to: r.lead });
      return;
    case "app":
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppend(r, m);
      return;
    case "heartbeat":
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case "snap":
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case "transferLeader":
    case "readIndex":
      if (r.lead === NONE) {
        r.trace(() => `${r.id} dropped ${m.type}: no leader at term ${r.term}`);
        return;
      }
      r.send({ ...m, to: r.lead });
      return;
    case "timeoutNow":
      r.trace(() => `${r.id} received timeoutNow from ${m.from} at term ${r.term}: campaigning`);
      // A transfer skips the pre-vote: the leader asked for it, so the lease must not block it.
      r.hup("transfer");
      return;
    case "readIndexResp":
      r.readStates.push({ index: m.index, context: m.context });
      return;
    default:
      return;
  }
}

export function stepCandidate(r: Raft, m: Message): void {
  const responseType = r.role === "preCandidate" ? "preVoteResp" : "voteResp";
  switch (m.type) {
    case "prop":
      throw new ProposalDroppedError(`node ${r.id} is campaigning at term ${r.term}`);
    case "app":
      r.becomeFollower(m.term, m.from);
      handleAppend(r, m);
      return;
    case "heartbeat":
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case "snap":
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case "preVoteResp":
    case "voteResp": {
      if (m.type !== responseType) {
        return;
      }
      const result = r.poll(m.from, !m.reject);
      if (result === "won") {
        if (r.role === "preCandidate") {
          r.campaign("election");
        } else {
          r.becomeLeader();
        }
      } else if (result === "lost") {
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
    default:
      return;
  }
}

function handleAppend(r: Raft, m: Message): void {
  const log = r.log;
  if (m.index < log.committed) {
    // A leader of this term holds every committed entry (Leader Completeness), so what it sends at
    // or below our commit index is what we committed. A different term there means a leader was
    // elected without them (a broken commit rule, say): crash loudly rather than answer with our
    // commit index, which would let that leader count our entries as its own.
    for (const sent of m.entries) {
      if (sent.index > log.committed) {
        break;
      }
      const ours = log.term(sent.index);
      assert(
        ours === undefined || ours === sent.term,
        `follower: leader ${m.from} sent index ${sent.index} at term ${sent.term}, but this node committed it at term ${ours} (Leader Completeness violated)`,
      );
    }
    r.send(newMessage("appResp", m.from, { index: log.committed }));
    return;
  }
  const lastNewIndex = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries, r.config.unsafeAppendWithoutTruncate === true);
  if (lastNewIndex !== undefined) {
    r.send(newMessage("appResp", m.from, { index: lastNewIndex }));
    return;
  }
  // Fast backtracking: point the leader at the last index whose term is <= the term it probed,
  // so it skips our whole divergent term in one round trip.
  const hint = log.findConflictByTerm(Math.min(m.index, log.lastIndex()), m.logTerm);
  r.send(newMessage("appResp", m.from, { index: m.index, reject: true, rejectHint: hint.index, hintTerm: hint.term }));
}

function handleHeartbeat(r: Raft, m: Message): void {
  // The leader sends min(our match, its commit), so we hold every entry up to m.commit.
  r.log.commitTo(m.commit);
  r.send(newMessage("heartbeatResp", m.from, { context: m.context }));
}

function handleSnapshot(r: Raft, m: Message): void {
  const snapshot = m.snapshot;
  if (snapshot === undefined) {
    r.trace(() => `${r.id} dropped a snap message without a snapshot from ${m.from}`);
    return;
  }
  const { index, term } = snapshot.metadata;
  if (index <= r.log.committed) {
    r.send(newMessage("appResp", m.from, { index: r.log.committed }));
    return;
  }
  if (r.log.matchTerm(index, term)) {
    // We already hold the snapshot's last entry: just commit up to it. Answer with the commit
    // index, not the last index (etcd restore()): entries after the snapshot may come from a
    // deposed leader, and the new leader must not count them as replicated here.
    r.log.commitTo(index);
    r.send(newMessage("appResp", m.from, { index: r.log.committed }));
    return;
  }
  r.log.restore(snapshot);
  r.voters = [...snapshot.metadata.confState.voters].sort((a, b) => a - b);
  r.trace(() => `${r.id} restored a snapshot at index ${index} term ${term}`);
  r.send(newMessage("appResp", m.from, { index: r.log.lastIndex() }));
}
