import * as z from "zod";

/**
 * What a verdict may say towards the caller's network. The `Reason` header of a rejection travels back
 * to the calling carrier, and a tag's label is shown or forwarded downstream, so neither may carry an
 * analyst's free text (a fraud report's notes can hold a victim's details: issue 23 item 4). They come
 * from a fixed vocabulary: the id of the check that decided, or a short label an operator chose, in a
 * charset that needs no quoting or escaping anywhere in a SIP header (RFC 3261 §25.1 quoted-string,
 * RFC 3326 `text`): ASCII letters, digits, space and `.!?()/_+-`.
 */
const SIP_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9 .!?()/_+-]{0,31})$/;
export const SIP_LABEL_MAX_LENGTH = 32;

export const isSipLabel = (value: string): boolean => SIP_LABEL.test(value);

export const sipLabelSchema = z
  .string()
  .trim()
  .regex(SIP_LABEL, `expected a short label for SIP: 1–${SIP_LABEL_MAX_LENGTH} ASCII letters, digits, spaces or .!?()/_+- starting with a letter or digit, e.g. "Suspected spoofing"`);

/**
 * The text a finding may show in SIP: its label when that is one a SIP header can carry, else the id of
 * the check that produced it. A label stored before labels were restricted falls back to the check id.
 */
export const sipTextOf = (finding: { checkId: string; label?: string | null }): string =>
  finding.label != null && isSipLabel(finding.label) ? finding.label : finding.checkId;
