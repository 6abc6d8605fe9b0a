/**
 * SIPp scenarios for the SBC integration test. The UAC scenario is generated per call because an
 * Identity header contains `;`, SIPp's injection-file field separator.
 */

export interface UacCall {
  /** Names the scenario; the runner also makes it the Call-ID prefix (sipp -cid_str), so the UAS trace can be matched to the call. */
  name: string;
  from: string;
  to: string;
  identity: string | null;
  /** Further header lines of the INVITE, as the peer sends them. */
  extraHeaders?: string[];
  /** The final response the scenario waits for; anything else fails the SIPp run. */
  expectStatus: number;
}

const xml = (name: string, body: string) => `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n<scenario name="${name}">\n${body}\n</scenario>\n`;

// A 2xx is ACKed end to end and the call is hung up through the proxy (Record-Route); a rejection
// is ACKed hop by hop with the INVITE's Via (RFC 3261 §17.1.1.3).
export function uacScenario(call: UacCall): string {
  const from = `From: <sip:${call.from}@[local_ip]>;tag=[pid]SIPpTag00[call_number]`;
  const invite = [
    `INVITE sip:${call.to}@[remote_ip]:[remote_port] SIP/2.0`,
    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]",
    from,
    `To: <sip:${call.to}@[remote_ip]:[remote_port]>`,
    "Call-ID: [call_id]",
    "CSeq: 1 INVITE",
    `Contact: <sip:${call.from}@[local_ip]:[local_port]>`,
    "Max-Forwards: 70",
    ...(call.identity ? [`Identity: ${call.identity}`] : []),
    ...(call.extraHeaders ?? []),
    "Content-Length: 0",
  ].join("\n");
  // ACK and BYE: the request line and its own headers, then what every request of the call carries.
  const send = (requestLine: string, headers: string[], retrans = false) => `
  <send${retrans ? ' retrans="500"' : ""}>
    <![CDATA[
${[requestLine, ...headers, from, "[last_To:]", "Call-ID: [call_id]", "Max-Forwards: 70", "Content-Length: 0"].join("\n")}

    ]]>
  </send>`;
  const routed = ["Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]", "[routes]"];
  const answered = `
  <recv response="${call.expectStatus}" rrs="true"/>${send("ACK [next_url] SIP/2.0", [...routed, "CSeq: 1 ACK"])}${send("BYE [next_url] SIP/2.0", [...routed, "CSeq: 2 BYE"], true)}
  <recv response="200" crlf="true"/>`;
  const rejected = `
  <recv response="${call.expectStatus}"/>${send(`ACK sip:${call.to}@[remote_ip]:[remote_port] SIP/2.0`, ["[last_Via:]", "CSeq: 1 ACK"])}`;
  return xml(
    call.name,
    `  <send retrans="500">
    <![CDATA[
${invite}

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>${call.expectStatus < 300 ? answered : rejected}`,
  );
}

/** Answers every INVITE with 200, then waits for the ACK and the BYE. */
export const UAS_SCENARIO = xml(
  "shaken-edge test UAS",
  `  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>`,
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
