import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { callFromInvite, calledNumbers } from "../../../src/call/normalize";
import { diallingPlanFor } from "../../../src/numbers/telephone-number";
import { parseInvite } from "../../../src/sip/invite";
import { verifyCall } from "../../../src/verification/verify-call";
import { haveRealworld, list, read, realworldVerifier } from "./realworld";

/** Fills SIPp's [keywords] the way SIPp would at run time, so the templates become real INVITEs. */
function renderSippTemplate(text: string): string {
  return text
    .replace(/\[field0[^\]]*\]/g, "15551231234")
    .replace(/\[field1[^\]]*\]/g, "carrier.example")
    .replace(/\[field2[^\]]*\]/g, "Caller")
    .replace(/\[(remote|local|media)_ip_type\]/g, "4")
    .replace(/\[(remote|local|media)_ip\]/g, "192.0.2.10")
    .replace(/\[(remote|local|media)_port\]/g, "5060")
    .replace(/\[transport\]/g, "UDP")
    .replace(/\[branch\]/g, "z9hG4bK-1")
    .replace(/\[call_number\]/g, "1")
    .replace(/\[call_id\]/g, "call-1@192.0.2.10")
    .replace(/\[cseq\]/g, "1")
    .replace(/\[service\]/g, "15551231234")
    .replace(/\[current_date\]/g, "Tue, 23 Jun 2020 17:14:30 GMT")
    .replace(/\[len\]/g, "0")
    .replace(/\[stir_shaken_alg\]/g, "ES256")
    .replace(/\[stir_shaken_ppt\]/g, "shaken")
    .replace(/\[stir_and_shaken_info\]/g, "https://certs.example.org/cert.pem")
    .replace(/\[[a-z_]+\]/g, "x");
}

/** The verdict each INVITE gets (repositories offline): the failed check and why. */
const EXPECTED: Record<string, [check: string, because: RegExp]> = {
  "agranig_010-identity-garbage_invite.sipp.txt": ["identity.info", /no parameters/],
  "agranig_011-invalid-jwt_invite.sipp.txt": ["identity.info", /no parameters|info/],
  "asterisk_testsuite_stir_shaken_mismatch_send-invite_8c15886d.sipp.txt": ["identity.syntax", /outside base64url/],
  "asterisk_testsuite_stir_shaken_mismatch_send-invite_99de308d.sipp.txt": ["identity.syntax", /expected ';'/],
  "asterisk_testsuite_stir_shaken_mismatch_send-invite_d73ad437.sipp.txt": ["identity.syntax", /outside base64url/],
  "opensips_sipssert_09.verify-error-403-wrong-iat_uac_invite.sipp.txt": ["passport.freshness", /old|future/],
  "opensips_sipssert_10.verify-error-428-no-identity_uac_invite.sipp.txt": ["identity.present", /no Identity header/],
  // The harness substitutes its own JWT for [stir_and_shaken_jwt]; unrendered, it is not a PASSporT.
  "opensips_sipssert_11.verify-error-436-no-info_uac_invite.sipp.txt": ["identity.syntax", /found 1/],
  "opensips_sipssert_12.verify-error-436-token-no-4-params_uac_invite.sipp.txt": ["passport.header", /lacks ppt/],
  "real_382com_to_vapi_invite_neustar_attC.sip": ["passport.freshness", /old|future/],
  "vendor_doc_portsip_pbx_invite.sip": ["identity.syntax", /expected ';' before parameter/],
};

describe.skipIf(!haveRealworld)("real-world INVITEs (../shared/realworld/invites)", () => {
  const files = haveRealworld ? list("invites") : [];

  it("has an expected answer for every INVITE", () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const file of files) {
    it(`${file}: parsed by sip.js and given a definite, explained answer`, async () => {
      const invite = parseInvite(renderSippTemplate(read("invites", file)));
      const plan = diallingPlanFor("US");
      const call = callFromInvite(invite, { trunk: null, carrier: null, international: true }, plan);
      const verification = await verifyCall(call.identity, { orig: call.cli?.tn ?? null, dest: calledNumbers(call), date: call.date }, realworldVerifier(1_800_000_000, {}));
      const [check, because] = EXPECTED[file]!;
      expect(verification.failure).toMatchObject({ checkId: check, reasondesc: expect.stringMatching(because) });
    });
  }
});
