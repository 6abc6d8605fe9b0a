import { describe, expect, it } from "vitest";
import { parseIdentityHeader } from "../../../src/identity/identity-header";
import { VerificationError } from "../../../src/verification/outcomes";

const JWS = "eyJhIjoxfQ.eyJiIjoyfQ.c2ln";

function failure(value: string): string {
  try {
    parseIdentityHeader(value);
  } catch (error) {
    expect(error).toBeInstanceOf(VerificationError);
    return `${(error as VerificationError).failure}: ${(error as Error).message}`;
  }
  throw new Error("parsed");
}

describe("Identity header (RFC 8224 §4)", () => {
  it("reads the PASSporT and its parameters", () => {
    expect(parseIdentityHeader(`${JWS};info=<https://cr.example.net/sp.pem>;alg=ES256;ppt=shaken`)).toEqual({
      jws: JWS,
      info: "https://cr.example.net/sp.pem",
      alg: "ES256",
      ppt: "shaken",
    });
  });

  it("accepts quoted ppt, whitespace around parameters, any order and unknown parameters", () => {
    expect(parseIdentityHeader(` ${JWS} ; ppt="shaken" ; info=<https://cr.example.net/sp.pem>;foo=bar;flag`)).toMatchObject({ ppt: "shaken", alg: null });
  });

  it.each([
    [`${JWS};info=<https://a/b.pem>;info=<https://c/d.pem>`, /IDENTITY_MALFORMED: parameter 'info' appears more than once/],
    [`${JWS};info=<https://a/b.pem>;PPT=shaken;ppt=div`, /'ppt' appears more than once/],
    [`${JWS};info=<https://a/b.pem>alg=ES256`, /expected ';'/],
    [JWS, /INFO_INVALID: Identity header has no parameters/],
    [`${JWS};alg=ES256`, /INFO_INVALID: Identity header lacks the required info/],
    [`${JWS};info=https://a/b.pem`, /INFO_INVALID: info parameter must be an absolute URI in angle brackets/],
    [`${JWS};info=<https://a/b.pem`, /unterminated/],
    [`..c2ln;info=<https://a/b.pem>`, /IDENTITY_COMPACT_FORM/],
    [`eyJh.c2ln;info=<https://a/b.pem>`, /3 dot-separated segments, found 2/],
    [`eyJ+/=.a.b;info=<https://a/b.pem>`, /outside base64url/],
    [`;info=<https://a/b.pem>`, /no PASSporT/],
    ["", /no PASSporT/],
    [`${JWS};info=<https://a/b.pem>;alg=ES 256`, /expected ';'/],
    [`${JWS};=x`, /empty parameter name/],
  ])("refuses %s", (value, reason) => {
    expect(failure(value)).toMatch(reason);
  });

  it("bounds the length before parsing", () => {
    expect(failure(`${JWS};info=<https://a/b.pem>;x=${"y".repeat(5000)}`)).toMatch(/at most 4096/);
  });
});
