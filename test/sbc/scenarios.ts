/**
 * SIPp scenarios for the SBC integration test. The UAC scenario is generated per call because an
 * Identity header contains `;`, SIPp's injection-file field separator.
 */

export interface UacCall {
  /** Names the scenario; the runner also makes it the Call-ID prefix (sipp -cid_str), so the UAS trace can be matched to the call. */
  name: string;
  /** The user part of From's URI: the caller's number, with any URI parameters the peer adds. */
  from: string;
  /** Header parameters the peer puts after From's tag. */
  fromParameters?: string;
  /** The display name the peer puts in From (quoted as written). */
  fromDisplayName?: string;
  to: string;
  identity: string | null;
  /** Further header lines of the INVITE, as the peer sends them. */
  extraHeaders?: string[];
  /** A To-tag: the INVITE claims to belong to an existing dialog. */
  toTag?: string;
  /** The Request-URI when it is not the SBC's own address (an in-dialog request names its remote target). */
  requestUri?: string;
  /** The final response the scenario waits for; anything else fails the SIPp run. */
  expectStatus: number;
  /** After the 2xx and the ACK, the core hangs up (its BYE crosses the SBC) instead of the peer. */
  calleeHangsUp?: boolean;
}

/** The Call-ID prefix of calls that the core (the UAS) hangs up itself. */
export const CALLEE_HANGS_UP = "callee-hangs-up";

const xml = (name: string, body: string) => `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n<scenario name="${name}">\n${body}\n</scenario>\n`;

const message = (lines: string[], retrans = false) => `
  <send${retrans ? ' retrans="500"' : ""}>
    <![CDATA[
${lines.join("\n")}

    ]]>
  </send>`;

/** The 200 to a BYE, by whichever side receives it. */
const ANSWER_BYE = message(["SIP/2.0 200 OK", "[last_Via:]", "[last_From:]", "[last_To:]", "[last_Call-ID:]", "[last_CSeq:]", "Content-Length: 0"]);

// A 2xx is ACKed end to end and the call is hung up through the proxy (Record-Route), by the peer or
// the core; a rejection is ACKed hop by hop with the INVITE's Via (RFC 3261 §17.1.1.3).
export function uacScenario(call: UacCall): string {
  const from = `From: ${call.fromDisplayName === undefined ? "" : `"${call.fromDisplayName}" `}<sip:${call.from}@[local_ip]>;tag=[pid]SIPpTag00[call_number]${call.fromParameters ?? ""}`;
  const requestUri = call.requestUri ?? `sip:${call.to}@[remote_ip]:[remote_port]`;
  const invite = [
    `INVITE ${requestUri} SIP/2.0`,
    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]",
    from,
    `To: <sip:${call.to}@[remote_ip]:[remote_port]>${call.toTag ? `;tag=${call.toTag}` : ""}`,
    "Call-ID: [call_id]",
    "CSeq: 1 INVITE",
    `Contact: <sip:${call.from.split(";")[0]}@[local_ip]:[local_port]>`,
    "Max-Forwards: 70",
    ...(call.identity ? [`Identity: ${call.identity}`] : []),
    ...(call.extraHeaders ?? []),
    "Content-Length: 0",
  ];
  // ACK and BYE: the request line and its own headers, then what every request of the call carries.
  const request = (requestLine: string, headers: string[], retrans = false) =>
    message([requestLine, ...headers, from, "[last_To:]", "Call-ID: [call_id]", "Max-Forwards: 70", "Content-Length: 0"], retrans);
  const routed = ["Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]", "[routes]"];
  const hangUp = call.calleeHangsUp
    ? `
  <recv request="BYE"/>${ANSWER_BYE}`
    : `${request("BYE [next_url] SIP/2.0", [...routed, "CSeq: 2 BYE"], true)}
  <recv response="200" crlf="true"/>`;
  const answered = `
  <recv response="${call.expectStatus}" rrs="true"/>${request("ACK [next_url] SIP/2.0", [...routed, "CSeq: 1 ACK"])}${hangUp}`;
  const rejected = `
  <recv response="${call.expectStatus}"/>${request(`ACK ${requestUri} SIP/2.0`, ["[last_Via:]", "CSeq: 1 ACK"])}`;
  return xml(
    call.name,
    `${message(invite, true)}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>${call.expectStatus < 300 ? answered : rejected}`,
  );
}

/**
 * Answers every INVITE with 200 and waits for the ACK; then waits for the peer's BYE, or, on a call
 * whose Call-ID starts with CALLEE_HANGS_UP, hangs up itself along the Record-Route.
 */
export const UAS_SCENARIO = xml(
  "shaken-edge test UAS",
  `  <recv request="INVITE" crlf="true" rrs="true">
    <action>
      <ereg regexp="${CALLEE_HANGS_UP}-" search_in="hdr" header="Call-ID:" assign_to="hangs_up"/>
      <ereg regexp="[^ ].*" search_in="hdr" header="From:" assign_to="caller"/>
      <ereg regexp="[^ ].*" search_in="hdr" header="To:" assign_to="callee"/>
    </action>
  </recv>${message([
    "SIP/2.0 200 OK",
    "[last_Via:]",
    "[last_Record-Route:]",
    "[last_From:]",
    "[last_To:];tag=[pid]SIPpTag01[call_number]",
    "[last_Call-ID:]",
    "[last_CSeq:]",
    "Contact: <sip:[local_ip]:[local_port];transport=[transport]>",
    "Content-Length: 0",
  ])}
  <recv request="ACK" crlf="true"/>
  <nop test="hangs_up" next="hang-up"/>
  <recv request="BYE"/>${ANSWER_BYE}
  <nop next="end"/>
  <label id="hang-up"/>${message(
    [
      "BYE [next_url] SIP/2.0",
      "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]",
      "[routes]",
      "From: [$callee];tag=[pid]SIPpTag01[call_number]",
      "To: [$caller]",
      "[last_Call-ID:]",
      "CSeq: 1 BYE",
      "Max-Forwards: 70",
      "Content-Length: 0",
    ],
    true,
  )}
  <recv response="200" crlf="true"/>
  <label id="end"/>`,
);

export interface TracedMessage {
  direction: "sent" | "received";
  text: string;
}

/** Reads a SIPp `-trace_msg` file: blocks headed by a dashed timestamp line, then "… message sent|received …". */
export function parseSippTrace(trace: string): TracedMessage[] {
  return trace
    .split(/^-{20,}.*$/m)
    .map((block) => block.trim())
    .filter((block) => /message (sent|received)/.test(block.split("\n")[0] ?? ""))
    .map((block) => {
      const [first, ...rest] = block.split("\n");
      return { direction: /received/.test(first!) ? "received" : "sent", text: rest.join("\n").trim() } as TracedMessage;
    });
}

/** Every value of a header (by full name, case-insensitive) in a SIP message's header section. */
export function headerValues(message: string, name: string): string[] {
  const head = message.split(/\r?\n\r?\n/)[0] ?? "";
  return head
    .split(/\r?\n/)
    .slice(1)
    .filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((line) => line.slice(name.length + 1).trim());
}

export const startLine = (message: string): string => message.split(/\r?\n/)[0]!.trim();
