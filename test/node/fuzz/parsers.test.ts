import "reflect-metadata";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { callFromInvite } from "../../../src/call/normalize";
import { parseIdentityHeader } from "../../../src/identity/identity-header";
import { diallingPlanFor } from "../../../src/numbers/telephone-number";
import { decodePassport } from "../../../src/passport/passport";
import { signPassport } from "../../../src/passport/sign";
import { exportPrivateKeyPem, generateKeyPair } from "../../../src/pki";
import { parseInvite, SipMessageError } from "../../../src/sip/invite";
import { VerificationError } from "../../../src/verification/outcomes";
import { fuzzRuns, fuzzTimeoutMs, hostileText, inviteSeed, mutationOf } from "./mutations";

const RUNS = fuzzRuns(3_000);
const LIMITS = { timeout: fuzzTimeoutMs(RUNS) };
const plan = diallingPlanFor("KZ");

/** Runs `parse`; anything it throws must be one of the parser's own typed errors. */
function onlyTypedErrors(parse: () => unknown, ...types: (abstract new (...args: never[]) => Error)[]): void {
  try {
    parse();
  } catch (error) {
    if (!types.some((type) => error instanceof type)) throw new Error(`untyped error: ${String(error)}`, { cause: error });
  }
}

/** The Identity header (RFC 8224 §4) and the PASSporT inside it (RFC 8225) — parsed as the verifier does. */
function readIdentity(value: string): void {
  const header = parseIdentityHeader(value);
  expect(typeof header.jws).toBe("string");
  decodePassport(header.jws, header);
}

let identity: string;
let invite: string;

beforeAll(async () => {
  const keys = await generateKeyPair();
  const signed = await signPassport({ key: await exportPrivateKeyPem(keys.privateKey), x5u: "https://cr.example.net/sp.pem", orig: "77272501234", dest: ["77012345678"], attest: "A", iat: 1_764_288_000 });
  identity = signed.identity;
  invite = inviteSeed(identity);
});

describe("Identity header parser (fuzzed)", LIMITS, () => {
  it("reads the unmutated seed", () => {
    expect(() => readIdentity(identity)).not.toThrow();
  });

  it("throws only VerificationError on arbitrary text", () => {
    fc.assert(fc.property(hostileText, (value) => onlyTypedErrors(() => readIdentity(value), VerificationError)), { numRuns: RUNS });
  });

  it("throws only VerificationError on mutations of a valid header", () => {
    fc.assert(fc.property(mutationOf(identity), (value) => onlyTypedErrors(() => readIdentity(value), VerificationError)), { numRuns: RUNS });
  });

  it("throws only VerificationError on generated headers with hostile parameters", () => {
    const parameter = fc.tuple(fc.constantFrom("info", "alg", "ppt", "x", "INFO", ""), fc.oneof(hostileText, fc.constantFrom("<https://a.example/x>", '"shaken"', "ES256", "<", '"')));
    const header = fc.tuple(fc.constantFrom(identity.split(";")[0]!, "a.b.c", "..sig"), fc.array(parameter, { maxLength: 6 })).map(
      ([jws, parameters]) => `${jws}${parameters.map(([name, value]) => `;${name}=${value}`).join("")}`,
    );
    fc.assert(fc.property(header, (value) => onlyTypedErrors(() => readIdentity(value), VerificationError)), { numRuns: RUNS });
  });
});

describe("SIP message parser (fuzzed)", LIMITS, () => {
  /** The parser, then the normalizer the endpoint runs on its result. */
  const ingress = { trunk: "intl-1", carrier: null, international: true };
  const readInvite = (text: string) => callFromInvite(parseInvite(text), ingress, plan);

  it("reads the unmutated seed", () => {
    expect(readInvite(invite).identity).toEqual([identity]);
  });

  it("throws only SipMessageError on arbitrary text", () => {
    fc.assert(fc.property(hostileText, (text) => onlyTypedErrors(() => readInvite(text), SipMessageError)), { numRuns: RUNS });
  });

  it("throws only SipMessageError on mutations of a valid INVITE", () => {
    fc.assert(fc.property(mutationOf(invite), (text) => onlyTypedErrors(() => readInvite(text), SipMessageError)), { numRuns: RUNS });
  });

  const name = fc.constantFrom("From", "To", "P-Asserted-Identity", "Identity", "Date", "Privacy", "Via", "CSeq", "Call-ID", "Content-Length", "f", "t", "i", "X-Fuzz");
  const headers = fc.array(fc.tuple(name, hostileText), { maxLength: 12 });
  const message = (requestLines: string[]) =>
    fc.tuple(fc.constantFrom(...requestLines), headers).map(([line, fields]) => [line, ...fields.map(([field, value]) => `${field}: ${value}`), "", ""].join("\r\n"));

  it("never throws for an INVITE, whatever headers the peer wrote: they are read or reported, never refused (issue 22 item 1)", () => {
    const invites = message(["INVITE sip:+77012345678@operator.example SIP/2.0", "INVITE tel:+77012345678 SIP/2.0", "INVITE x SIP/2.0", `INVITE sip:${"a".repeat(1_100)}@b SIP/2.0`]);
    fc.assert(fc.property(invites, (text) => void readInvite(text)), { numRuns: RUNS });
  });

  it("throws only SipMessageError for what is no INVITE request", () => {
    fc.assert(
      fc.property(message(["OPTIONS sip:a@b SIP/2.0", "SIP/2.0 200 OK", "INVITE"]), (text) => {
        expect(() => readInvite(text)).toThrow(SipMessageError);
      }),
      { numRuns: RUNS },
    );
  });
});
