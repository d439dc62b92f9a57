// Client-port authentication: a challenge-response over the cluster secret, once per connection,
// before administrative requests (membership changes, leadership transfer).
//
//   client -> node  { type: "authChallenge" }                      node answers { nonce: serverNonce }
//   client -> node  { type: "authenticate", nonce: clientNonce,    node answers { proof: serverProof }
//                     proof: clientProof }                         or UNAUTHENTICATED
//
// clientProof = HMAC(secret, "client" | serverNonce | clientNonce), serverProof the same with
// "server": the node's fresh nonce makes a recorded exchange useless on another connection, and
// the client checks the node's proof in turn. Nonces and proofs travel as lowercase hex.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const AUTH_NONCE_BYTES = 32;

export function newAuthNonce(): string {
  return randomBytes(AUTH_NONCE_BYTES).toString("hex");
}

export function clientAuthProof(secret: Uint8Array, role: "client" | "server", serverNonce: string, clientNonce: string): string {
  return createHmac("sha256", secret).update(`raftlab client-port ${role} v1\0${serverNonce}\0${clientNonce}`).digest("hex");
}

/** Constant-time comparison of two hex proofs. */
export function authProofMatches(received: string, expected: string): boolean {
  const a = Buffer.from(received, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether `text` is a nonce as sent on the wire (hex of AUTH_NONCE_BYTES bytes). */
export function isAuthHex(text: unknown): text is string {
  return typeof text === "string" && /^[0-9a-f]{64}$/.test(text);
}
