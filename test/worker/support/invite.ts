import { env } from "cloudflare:workers";
import { sbcAuth } from "./auth";
import { appAt, CALLEE, CALLER } from "./stir";

/** The ingress query of a call from abroad, and of one from a domestic carrier. */
export const INTERNATIONAL_QUERY = "?trunk=intl-9&carrier=TransitCo&international=true";
export const DOMESTIC_QUERY = "?trunk=domestic-1&carrier=DomesticCo&international=false";

/** The fixture call's From and To, as a peer writes them. */
export const FROM = `From: "Caller" <sip:+${CALLER}@carrier.example;user=phone>;tag=1928301774`;
export const TO = `To: <sip:+${CALLEE}@operator.example;user=phone>`;

/**
 * An INVITE for the fixture call (+77272501234 → +77012345678) with `headers` as the peer wrote them
 * (From and To included: pass FROM and TO for the usual ones), and the Identity headers given.
 */
export function inviteWith(headers: string[], identities: string[] = [], requestLine = `INVITE sip:+${CALLEE}@operator.example;user=phone SIP/2.0`): string {
  return [
    requestLine,
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds",
    "Max-Forwards: 70",
    ...headers,
    "Call-ID: a84b4c76e66710@carrier.example",
    "CSeq: 314159 INVITE",
    ...identities.map((identity) => `Identity: ${identity}`),
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

/** Posts a raw INVITE (`message/sip`) to `/v1/verdict`, the ingress in the query. */
export const postInvite = (text: string, query: string, app = appAt()) =>
  app.request(`/v1/verdict${query}`, { method: "POST", headers: { ...sbcAuth, "Content-Type": "message/sip" }, body: text }, env);
