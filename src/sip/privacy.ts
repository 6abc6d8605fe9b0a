/** The privacy a caller can ask for: RFC 3323 §4.2's priv-values and RFC 3325 §9.3's `id`. */
export const PRIV_VALUES = ["header", "session", "user", "none", "critical", "id"] as const;
export type PrivValue = (typeof PRIV_VALUES)[number];

const KNOWN: ReadonlySet<string> = new Set(PRIV_VALUES);

/**
 * The priv-values of Privacy header values (`priv-value *(";" priv-value)`, RFC 3323 §4.2), every
 * header counted, each value once. Tokens are compared without case (RFC 5234 §2.3); extension values
 * this verifier does not know are left out, so nothing the peer wrote is ever repeated back.
 */
export function readPrivacy(headerValues: string[]): PrivValue[] {
  const values = new Set<PrivValue>();
  for (const token of headerValues.flatMap((value) => value.split(";"))) {
    const value = token.trim().toLowerCase();
    if (KNOWN.has(value)) values.add(value as PrivValue);
  }
  return [...values];
}

/**
 * Whether the caller asked that its identity not be shown: `id` for P-Asserted-Identity (RFC 3325
 * §9.3), `user` for From (RFC 3323 §4.2), `header` for the headers that identify where the call came from.
 */
export const hidesCallerId = (values: readonly PrivValue[]): boolean => values.some((value) => value === "id" || value === "user" || value === "header");
