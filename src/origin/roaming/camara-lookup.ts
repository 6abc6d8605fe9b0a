import * as z from "zod";
import { BodyTooLargeError, readBoundedText } from "../../api/body";
import type { RoamingLookup } from "./lookup";
import { unknownRoaming } from "./lookup";

/**
 * Client for the CAMARA Device Roaming Status API (cli-spoofing.md §3):
 * `POST {base}/device-roaming-status/v1/retrieve` with `{device:{phoneNumber:"+7…"}}`, answered by
 * `{roaming, countryCode, countryName[], lastStatusTime}`. Any error answers `unknown`. The answer is
 * read with a bound as it streams in: a server that sends without end costs at most the bound.
 */
export const CAMARA_SOURCE = "camara";
const MAX_RESPONSE_BYTES = 16 * 1024;

const camaraResponseSchema = z.object({
  roaming: z.boolean(),
  countryCode: z.number().int().optional(),
  // ISO 3166 alpha-2 is upper case; a server writing "kz" still means Kazakhstan, and check 6 compares exactly.
  countryName: z.array(z.string().transform((name) => name.toUpperCase())).optional(),
  lastStatusTime: z.iso.datetime({ offset: true }).optional(),
});

export interface CamaraClientOptions {
  baseUrl: string;
  /** Bearer token (the CAMARA_TOKEN secret). */
  token: string | undefined;
  fetch?: typeof fetch;
}

export function createCamaraRoamingLookup(options: CamaraClientOptions): RoamingLookup {
  const endpoint = `${options.baseUrl.replace(/\/+$/, "")}/device-roaming-status/v1/retrieve`;
  return {
    async lookup(tn, _atMs, hints) {
      if (!options.token) return unknownRoaming(CAMARA_SOURCE, "CAMARA_TOKEN is not configured");
      const send = options.fetch ?? fetch;
      const response = await send(endpoint, {
        method: "POST",
        headers: { Authorization: `Bearer ${options.token}`, "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ device: { phoneNumber: `+${tn}` } }),
        redirect: "manual",
        signal: hints.signal,
      });
      const text = await readBoundedText(response, MAX_RESPONSE_BYTES).catch((error: unknown) => {
        if (error instanceof BodyTooLargeError) return null;
        throw error;
      });
      if (!response.ok) return unknownRoaming(CAMARA_SOURCE, `HTTP ${response.status}${text === null ? "" : camaraErrorCode(text)}`);
      if (text === null) return unknownRoaming(CAMARA_SOURCE, `response larger than ${MAX_RESPONSE_BYTES} bytes`);
      const parsed = camaraResponseSchema.safeParse(safeJson(text));
      if (!parsed.success) return unknownRoaming(CAMARA_SOURCE, "response is not a CAMARA roaming status");
      const { roaming, countryCode, countryName, lastStatusTime } = parsed.data;
      // countryCode is the visited network's MCC, not a country: check 6 compares it with the home MCCs.
      // Several names: the MCC is shared by several countries (CAMARA), and the subscriber is in one of them.
      const visitedCountry = countryName?.[0];
      return {
        status: roaming ? "roaming" : "home",
        ...(roaming && visitedCountry ? { visitedCountry } : {}),
        ...(roaming && countryName && countryName.length > 1 ? { visitedCountries: countryName } : {}),
        ...(roaming && countryCode !== undefined ? { visitedMcc: String(countryCode) } : {}),
        observedAt: lastStatusTime ? Date.parse(lastStatusTime) : null,
        source: CAMARA_SOURCE,
      };
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** CAMARA errors carry `{status, code, message}`; the code (e.g. IDENTIFIER_NOT_FOUND) helps analysts. */
function camaraErrorCode(text: string): string {
  const body = safeJson(text);
  const code = typeof body === "object" && body !== null && "code" in body ? (body as { code: unknown }).code : undefined;
  return typeof code === "string" ? ` ${code}` : "";
}
