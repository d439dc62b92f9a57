// Leader behaviour (etcd stepLeader/tickHeartbeat): proposals, replication with probe/replicate/
// snapshot flow control, commit by counting current-term matches, ReadIndex, CheckQuorum and
// leadership transfer.
import type { Entry, Message, NodeId } from "./messages.js";
import { NONE } from "./messages.js";
import { ProposalDroppedError } from "./errors.js";
import { assert } from "../../lib/assert.js";
import { committedIndex } from "./quorum.js";
import { majority } from "../../lib/majority.js";
import type { Progress } from "./progress.js";
import { newMessage, type Raft } from "./raft.js";

export function tickHeartbeat(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.config.electionTicks) {
    r.electionElapsed = 0;
    if (r.config.checkQuorum) {
      checkQuorum(r);
    }
    if (r.role === "leader" && r.leadTransferee !== NONE) {
      // The transfer did not complete within an election timeout: take proposals again.
      r.trace(() => `${r.id} aborts the transfer to ${r.leadTransferee}`);
      r.leadTransferee = NONE;
    }
  }
  if (r.role !== "leader") {
    return;
  }
  if (r.heartbeatElapsed >= r.config.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    broadcastHeartbeat(r);
  }
}

function checkQuorum(r: Raft): void {
  let active = 0;
  for (const voter of r.voters) {
    const progress = r.progress.get(voter);
    if (voter === r.id || progress?.recentActive === true) {
      active++;
    }
    if (progress !== undefined && voter !== r.id) {
      progress.recentActive = false;
    }
  }
  if (active < majority(r.voters.length)) {
    r.trace(() => `${r.id} stepped down at term ${r.term}: no quorum heard within an election timeout`);
    r.becomeFollower(r.term, NONE);
  }
}

/** Appends entries of this term; false (nothing appended) when the uncommitted bound is hit. */
export function appendEntries(r: Raft, entries: Entry[]): boolean {
  let bytes = 0;
  for (const entry of entries) {
    bytes += entry.data.length;
  }
  if (r.uncommittedSize > 0 && bytes > 0 && r.uncommittedSize + bytes > r.config.maxUncommittedEntryBytes) {
    return false;
  }
  r.uncommittedSize += bytes;
  let index = r.log.lastIndex();
  for (const entry of entries) {
    entry.term = r.term;
    entry.index = ++index;
  }
  r.log.append(entries);
  const self = r.progress.get(r.id);
  assert(self !== undefined, "leader: appending without a progress of its own");
  self.maybeUpdate(index);
  maybeCommit(r);
  r.needsBroadcast = true;
  return true;
}

export function maybeCommit(r: Raft): boolean {
  const index = committedIndex(r.voters, (id) => r.progress.get(id)?.match ?? 0);
  // §5.4.2: count replicas only for an entry of the current term (the unsafe switch skips it).
  if (index > r.log.committed && (r.log.term(index) === r.term || r.config.unsafeCommitPreviousTerm === true)) {
    r.log.commitTo(index);
    r.needsBroadcast = true;
    return true;
  }
  return false;
}

function committedEntryInCurrentTerm(r: Raft): boolean {
  return r.log.term(r.log.committed) === r.term;
}

/** Sends whatever the followers lack (and the commit index), as far as flow control allows. */
export function broadcastAppend(r: Raft): void {
  r.needsBroadcast = false;
  for (const [id, progress] of r.progress) {
    if (id !== r.id) {
      sendAppend(r, id, progress, true);
      while (progress.state === "replicate" && sendAppend(r, id, progress, false)) {
        // keep filling the pipeline window
      }
    }
  }
}

function broadcastHeartbeat(r: Raft): void {
  const context = r.readOnly.lastPendingContext();
  for (const [id, progress] of r.progress) {
    if (id !== r.id) {
      sendHeartbeat(r, id, progress, context);
    }
  }
}

function sendHeartbeat(r: Raft, to: NodeId, progress: Progress, context: Uint8Array | undefined): void {
  // Never tell a follower to commit past what it is known to hold.
  const commit = Math.min(progress.match, r.log.committed);
  r.send(newMessage("heartbeat", to, context === undefined ? { commit } : { commit, context }));
}

/** Sends one app (or a snapshot); returns whether anything was sent. */
export function sendAppend(r: Raft, to: NodeId, progress: Progress, sendIfEmpty: boolean): boolean {
  if (progress.isPaused()) {
    return false;
  }
  const log = r.log;
  const prevIndex = progress.next - 1;
  const prevTerm = log.term(prevIndex);
  if (prevTerm === undefined || prevIndex < log.snapshotIndex) {
    return sendSnapshot(r, to, progress);
  }
  const entries = log.slice(progress.next, log.lastIndex(), r.config.maxEntriesPerMessage, r.config.maxMessageBytes);
  if (entries.length === 0 && !sendIfEmpty) {
    return false;
  }
  r.send(newMessage("app", to, { index: prevIndex, logTerm: prevTerm, entries, commit: log.committed }));
  progress.sentEntries(entries.length, prevIndex + entries.length);
  return true;
}

function sendSnapshot(r: Raft, to: NodeId, progress: Progress): boolean {
  if (!progress.recentActive) {
    // Do not ship a snapshot to a node we have not heard from lately.
    return false;
  }
  const snapshot = r.log.snapshot;
  assert(snapshot !== undefined, "leader: entries are compacted but there is no snapshot to send");
  r.send(newMessage("snap", to, { snapshot }));
  progress.becomeSnapshot(snapshot.metadata.index);
  r.trace(() => `${r.id} sent snapshot ${snapshot.metadata.index} to ${to}`);
  return true;
}

function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send(newMessage("timeoutNow", to));
}

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case "beat":
      broadcastHeartbeat(r);
      return;
    case "checkQuorum":
      checkQuorum(r);
      return;
    case "prop":
      handleProposal(r, m);
      return;
    case "readIndex":
      handleReadIndex(r, m);
      return;
    case "transferLeader":
      handleTransferLeader(r, m.from);
      return;
    default:
      break;
  }
  const progress = r.progress.get(m.from);
  if (progress === undefined) {
    return;
  }
  switch (m.type) {
    case "appResp":
      handleAppendResponse(r, m, progress);
      return;
    case "heartbeatResp":
      handleHeartbeatResponse(r, m, progress);
      return;
    default:
      return;
  }
}

function handleProposal(r: Raft, m: Message): void {
  assert(m.entries.length > 0, "leader: a proposal without entries");
  if (!r.progress.has(r.id)) {
    throw new ProposalDroppedError(`leader ${r.id} was removed from the configuration`);
  }
  if (r.leadTransferee !== NONE) {
    throw new ProposalDroppedError(`leader ${r.id} is transferring leadership to ${r.leadTransferee}`);
  }
  // appendEntries stamps term and index into the entries: copy those of a forwarded message,
  // which the network may deliver twice and the sender still holds.
  const entries = m.from === NONE ? m.entries : m.entries.map((entry) => ({ ...entry }));
  for (let i = 0; i < entries.length; i++) {
    if ((entries[i] as Entry).type === "confChange") {
      if (r.pendingConfIndex > r.log.applied) {
        throw new ProposalDroppedError(`a membership change (up to index ${r.pendingConfIndex}) is not applied yet`);
      }
      r.pendingConfIndex = r.log.lastIndex() + i + 1;
    }
  }
  if (!appendEntries(r, entries)) {
    throw new ProposalDroppedError(`${r.uncommittedSize} bytes are uncommitted (limit ${r.config.maxUncommittedEntryBytes})`);
  }
}

function handleReadIndex(r: Raft, m: Message): void {
  if (r.quorumIsSelf() || (r.config.unsafeReadWithoutQuorum === true && committedEntryInCurrentTerm(r))) {
    // Unsafe switch: no heartbeat round, so a deposed leader cut off in a minority answers too.
    respondToRead(r, m, r.log.committed);
    return;
  }
  if (!committedEntryInCurrentTerm(r)) {
    // Our commit index may lag the true one until an entry of our term commits (§6.4).
    r.pendingReadIndexMessages.push(m);
    return;
  }
  r.readOnly.addRequest(r.log.committed, m);
  r.readOnly.recvAck(r.id, m.context);
  broadcastHeartbeat(r);
}

function respondToRead(r: Raft, request: Message, index: number): void {
  if (request.from === NONE || request.from === r.id) {
    r.readStates.push({ index, context: request.context });
  } else {
    r.send(newMessage("readIndexResp", request.from, { index, context: request.context }));
  }
}

function releasePendingReads(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !committedEntryInCurrentTerm(r)) {
    return;
  }
  const pending = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of pending) {
    handleReadIndex(r, m);
  }
}

function handleAppendResponse(r: Raft, m: Message, progress: Progress): void {
  progress.recentActive = true;
  if (m.reject) {
    let nextProbe = m.rejectHint;
    if (m.hintTerm > 0) {
      nextProbe = r.log.findConflictByTerm(m.rejectHint, m.hintTerm).index;
    }
    if (progress.maybeDecrTo(m.index, nextProbe)) {
      if (progress.state === "replicate") {
        progress.becomeProbe();
      }
      sendAppend(r, m.from, progress, true);
    }
    return;
  }
  // A follower acknowledges at most what this leader sent it, or its own commit index; in a safe
  // Raft the leader holds every committed entry, so both are within this log. Crash loudly if not.
  assert(
    m.index <= r.log.lastIndex(),
    "leader: a follower acknowledged an index beyond this leader's log (Leader Completeness violated: this leader lacks committed entries)",
  );
  const wasPaused = progress.isPaused();
  // A probing follower that acknowledges exactly its match has proven where its log ends, so it
  // can replicate at once instead of waiting for another round trip (etcd stepLeader MsgAppResp).
  const probeConfirmed = progress.state === "probe" && progress.match === m.index;
  if (!progress.maybeUpdate(m.index) && !probeConfirmed) {
    return;
  }
  if (progress.state === "probe") {
    progress.becomeReplicate();
  } else if (progress.state === "snapshot" && progress.match + 1 >= r.log.firstIndex()) {
    progress.becomeProbe();
    progress.becomeReplicate();
  } else if (progress.state === "replicate") {
    progress.inflights.freeLE(m.index);
  }
  if (maybeCommit(r)) {
    releasePendingReads(r);
  } else if (wasPaused) {
    sendAppend(r, m.from, progress, true);
  }
  while (sendAppend(r, m.from, progress, false)) {
    // fill the window opened by this acknowledgement
  }
  if (m.from === r.leadTransferee && progress.match === r.log.lastIndex()) {
    r.trace(() => `${r.id} sends timeoutNow to ${m.from}: it caught up`);
    sendTimeoutNow(r, m.from);
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, progress: Progress): void {
  progress.recentActive = true;
  progress.probeSent = false;
  if (progress.state === "replicate" && progress.inflights.full()) {
    progress.inflights.freeFirstOne();
  }
  if (progress.match < r.log.lastIndex()) {
    sendAppend(r, m.from, progress, true);
  }
  if (m.context.length === 0) {
    return;
  }
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) {
    return;
  }
  let voterAcks = 0;
  for (const voter of r.voters) {
    if (acks.has(voter)) {
      voterAcks++;
    }
  }
  if (voterAcks < majority(r.voters.length)) {
    return;
  }
  for (const status of r.readOnly.advance(m.context)) {
    respondToRead(r, status.request, status.index);
  }
}

function handleTransferLeader(r: Raft, transferee: NodeId): void {
  if (transferee === r.id || transferee === NONE) {
    return;
  }
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === transferee) {
      return;
    }
    r.leadTransferee = NONE;
  }
  const progress = r.progress.get(transferee);
  if (progress === undefined) {
    r.trace(() => `${r.id} ignores a transfer to ${transferee}: not a voter`);
    return;
  }
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  r.trace(() => `${r.id} starts transferring leadership to ${transferee}`);
  if (progress.match === r.log.lastIndex()) {
    sendTimeoutNow(r, transferee);
  } else {
    sendAppend(r, transferee, progress, true);
  }
}

/** The app applied a conf change on the leader: track the new voter set. */
export function leaderApplyConfChange(r: Raft, type: "addNode" | "removeNode", nodeId: NodeId): void {
  if (type === "addNode") {
    if (!r.progress.has(nodeId)) {
      r.progress.set(nodeId, r.newProgress(r.log.lastIndex()));
    }
  } else {
    r.progress.delete(nodeId);
    if (r.leadTransferee === nodeId) {
      r.leadTransferee = NONE;
    }
  }
  if (type === "removeNode" && nodeId === r.id) {
    stepDownAfterRemoval(r);
    return;
  }
  maybeCommit(r);
  r.needsBroadcast = true;
}

/** Removed ourselves: tell everyone the commit index, hand over to the most caught-up voter, step down. */
function stepDownAfterRemoval(r: Raft): void {
  broadcastAppend(r);
  let best: NodeId = NONE;
  let bestMatch = -1;
  for (const [id, progress] of r.progress) {
    if (progress.match > bestMatch) {
      best = id;
      bestMatch = progress.match;
    }
  }
  if (best !== NONE && bestMatch === r.log.lastIndex()) {
    sendTimeoutNow(r, best);
  }
  r.trace(() => `${r.id} was removed from the configuration and steps down at term ${r.term}`);
  r.becomeFollower(r.term, NONE);
}
