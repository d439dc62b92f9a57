// Stable one-line text for messages, entries and Readies: for traces, logs and test snapshots.
// Built only when asked for (never on the hot path).
import type { Entry, Message } from "./messages.js";
import type { Ready } from "./raw-node.js";

function describeBytes(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length && i < 24; i++) {
    const byte = bytes[i] as number;
    text += byte >= 0x20 && byte < 0x7f && byte !== 0x22 ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return bytes.length > 24 ? `"${text}"..(${bytes.length}B)` : `"${text}"`;
}

export function describeEntry(entry: Entry): string {
  const kind = entry.type === "confChange" ? " conf" : "";
  return `${entry.term}/${entry.index}${kind}${entry.data.length > 0 ? ` ${describeBytes(entry.data)}` : ""}`;
}

export function describeEntries(entries: readonly Entry[]): string {
  if (entries.length <= 4) {
    return `[${entries.map(describeEntry).join(", ")}]`;
  }
  const first = entries[0] as Entry;
  const last = entries[entries.length - 1] as Entry;
  return `[${describeEntry(first)} .. ${describeEntry(last)} (${entries.length})]`;
}

export function describeMessage(m: Message): string {
  let text = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case "app":
      text += ` logTerm=${m.logTerm} index=${m.index} commit=${m.commit} entries=${describeEntries(m.entries)}`;
      break;
    case "appResp":
      text += m.reject ? ` reject index=${m.index} hint=${m.rejectHint}/${m.hintTerm}` : ` index=${m.index}`;
      break;
    case "vote":
    case "preVote":
      text += ` lastIndex=${m.index} lastTerm=${m.logTerm}`;
      break;
    case "voteResp":
    case "preVoteResp":
      text += m.reject ? " reject" : " granted";
      break;
    case "heartbeat":
      text += ` commit=${m.commit}`;
      break;
    case "snap":
      text += ` snapshot=${m.snapshot?.metadata.term ?? 0}/${m.snapshot?.metadata.index ?? 0}`;
      break;
    case "prop":
      text += ` entries=${describeEntries(m.entries)}`;
      break;
    case "readIndexResp":
      text += ` index=${m.index}`;
      break;
    default:
      break;
  }
  if (m.context.length > 0) {
    text += ` context=${describeBytes(m.context)}`;
  }
  return text;
}

export function describeReady(ready: Ready): string {
  const parts: string[] = [];
  if (ready.softState !== undefined) {
    parts.push(`soft=${ready.softState.role}/leader=${ready.softState.leader}`);
  }
  if (ready.hardState !== undefined) {
    parts.push(`hard=term=${ready.hardState.term},vote=${ready.hardState.vote},commit=${ready.hardState.commit}`);
  }
  if (ready.entries.length > 0) {
    parts.push(`entries=${describeEntries(ready.entries)}`);
  }
  if (ready.snapshot !== undefined) {
    parts.push(`snapshot=${ready.snapshot.metadata.term}/${ready.snapshot.metadata.index}`);
  }
  if (ready.committedEntries.length > 0) {
    parts.push(`committed=${describeEntries(ready.committedEntries)}`);
  }
  if (ready.readStates.length > 0) {
    parts.push(`reads=${ready.readStates.map((read) => `${read.index}:${describeBytes(read.context)}`).join(",")}`);
  }
  for (const message of ready.messages) {
    parts.push(`msg ${describeMessage(message)}`);
  }
  if (ready.mustSync) {
    parts.push("mustSync");
  }
  return parts.join("\n");
}
