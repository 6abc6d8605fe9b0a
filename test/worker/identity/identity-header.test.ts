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
    // Only a PASSporT without both header and claims is in compact form; one missing either is malformed (438 either way, another check id).
    [`.eyJiIjoyfQ.c2ln;info=<https://a/b.pem>`, /IDENTITY_MALFORMED: PASSporT has an empty segment/],
    [`eyJhIjoxfQ..c2ln;info=<https://a/b.pem>`, /IDENTITY_MALFORMED: PASSporT has an empty segment/],
    [`eyJhIjoxfQ.eyJiIjoyfQ.;info=<https://a/b.pem>`, /IDENTITY_MALFORMED: PASSporT has an empty segment/],
    // Without parameters the whole value is the PASSporT, its last character included.
    [`eyJhIjoxfQ.eyJiIjoyfQ.`, /IDENTITY_MALFORMED: PASSporT has an empty segment/],
    [`${JWS};info=<>`, /INFO_INVALID: info parameter must be an absolute URI in angle brackets/],
    [`${JWS};info=https://a/b.pem>`, /INFO_INVALID: info parameter must be an absolute URI in angle brackets/],
    [`${JWS};info=<https://a/b.pem>;ppt=shaken,div`, /IDENTITY_MALFORMED: parameter 'ppt' has an invalid value 'shaken,div'/],
  ])("refuses %s", (value, reason) => {
    expect(failure(value)).toMatch(reason);
  });

  it("quotes at most 40 characters of a parameter value that is no token", () => {
    expect(failure(`${JWS};info=<https://a/b.pem>;ppt=${"s".repeat(39)},${"x".repeat(200)}`)).toMatch(new RegExp(`invalid value '${"s".repeat(39)},'$`));
  });

  it("bounds the length before parsing", () => {
    expect(failure(`${JWS};info=<https://a/b.pem>;x=${"y".repeat(5000)}`)).toMatch(/at most 4096/);
  });

  it("reads a value of exactly 4096 characters, and refuses one more", () => {
    const prefix = `${JWS};info=<https://a/b.pem>;x=`;
    const atBound = `${prefix}${"y".repeat(4096 - prefix.length)}`;
    expect(atBound).toHaveLength(4096);
    expect(parseIdentityHeader(atBound).info).toBe("https://a/b.pem");
    expect(failure(`${atBound}y`)).toMatch(/IDENTITY_MALFORMED: Identity header is 4097 characters long; at most 4096/);
  });

  it("reads white space (spaces and tabs) around ';' and '=' (RFC 3261 §25.1 SEMI, EQUAL) and a trailing CRLF", () => {
    expect(parseIdentityHeader(`${JWS}\t;\tinfo = <https://cr.example.net/sp.pem>\t; alg =\tES256\t;ppt= "shaken"\r\n`)).toEqual({
      jws: JWS,
      info: "https://cr.example.net/sp.pem",
      alg: "ES256",
      ppt: "shaken",
    });
  });

  it("reads a parameter that ends the value without a value of its own", () => {
    expect(parseIdentityHeader(`${JWS};info=<https://a/b.pem>;flag`)).toMatchObject({ info: "https://a/b.pem", alg: null, ppt: null });
  });

  it("unquotes an empty quoted value to the empty string, and keeps one character of info", () => {
    expect(parseIdentityHeader(`${JWS};info=<a>;ppt=""`)).toMatchObject({ info: "a", ppt: "" });
  });
});
