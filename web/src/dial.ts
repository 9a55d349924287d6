// Click-to-dial and blind-transfer targets on the agent desktop (unit-tested in test/dial.test.ts):
// the number the server dials (docs/voice.md, "Outbound calls": 3 to 20 digits with an optional
// leading +), the body of POST /api/v1/calls, the number a callback contact asks to be called on,
// and the body of POST /api/v1/contacts/{id}/transfer for a queue, an agent or a number (and of
// .../consult for a queue or an agent).
import type { Contact } from "./types";

/** The dial pad, in telephone order ("+" where a phone has "*": the server takes no * or #). */
export const dialPad = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "0"];

export const numberRule = "A number is 3 to 20 digits with an optional leading +.";

/**
 * The number as the server takes it, or null: the separators people type (spaces, dashes, dots,
 * parentheses) are dropped, then 3 to 20 digits with an optional leading + remain.
 */
export function normalNumber(text: string): string | null {
  const n = text.replace(/[\s\-.()]/g, "");
  return /^\+?[0-9]{3,20}$/.test(n) ? n : null;
}

export interface DialRequest {
  number: string;
  queue: string;
}

/** The body of POST /api/v1/calls, or the reason it is refused before asking. */
export function dialRequest(number: string, queue: string): DialRequest | { problem: string } {
  const n = normalNumber(number);
  if (!n) return { problem: numberRule };
  if (!queue.trim()) return { problem: "Choose the queue the call belongs to." };
  return { number: n, queue: queue.trim() };
}

/** What the desktop says once the server placed the call (its reply comes when the phone rings). */
export function dialedText(c: Pick<Contact, "id" | "attributes">, number: string): string {
  return `Calling ${c.attributes?.["outbound.number"] ?? number} (contact #${c.id}): answer your phone.`;
}

/**
 * The number a callback contact asks to be called on (`callback.number`), or "" for others and
 * for a callback the server already dialled (`outbound.result`: with SIP it rings the agent's
 * phone for the offer and calls the number itself).
 */
export function callbackNumber(c: Pick<Contact, "channel" | "attributes"> | undefined): string {
  if (!c || c.channel !== "callback" || c.attributes?.["outbound.result"] !== undefined) return "";
  return normalNumber(c.attributes?.["callback.number"] ?? "") ?? "";
}

// --- Blind transfer (docs/voice.md, "Call control"): exactly one of queue, agent and number.
// A consultation (docs/voice.md, "Consultation transfer") takes a queue or an agent, the same way.

export type TransferKind = "queue" | "agent" | "number";

export const transferKindLabels: Record<TransferKind, string> = {
  queue: "Queue",
  agent: "Agent",
  number: "Number",
};

export type TransferBody = { queue: string } | { agent: string } | { number: string };

/** The body naming the target for the kind and the value typed or chosen, or the reason it is refused. */
function targetBody(kind: TransferKind, value: string, verb: string): TransferBody | { problem: string } {
  const v = value.trim();
  switch (kind) {
    case "queue":
      return v ? { queue: v } : { problem: `Choose the queue to ${verb}.` };
    case "agent":
      return v ? { agent: v } : { problem: `Choose or type the agent to ${verb}.` };
    case "number": {
      const n = normalNumber(v);
      return n ? { number: n } : { problem: numberRule };
    }
  }
}

/** The transfer's body for the kind and the value typed or chosen, or the reason it is refused. */
export function transferBody(kind: TransferKind, value: string): TransferBody | { problem: string } {
  return targetBody(kind, value, "transfer to");
}

/** What a consultation may target: a queue (its free member, or wait for one) or an agent. */
export type ConsultKind = Exclude<TransferKind, "number">;

export const consultKinds: readonly ConsultKind[] = ["agent", "queue"];

export type ConsultBody = { queue: string } | { agent: string };

/** The body of POST /api/v1/contacts/{id}/consult: exactly one of `agent` and `queue`. */
export function consultBody(kind: ConsultKind, value: string): ConsultBody | { problem: string } {
  return targetBody(kind, value, "consult") as ConsultBody | { problem: string };
}
