import { requiredOption, stringOption, type CliCommand } from "../command";
import { ADMIN_API_OPTIONS, callAdminApi } from "./rules";

/** `shaken-edge reports add|list`: fraud reports held by a running instance (issue 4 "Fraud reports"). */
interface ReportView {
  id: string;
  victim: string;
  presentedCli: string;
  callTime: string;
  channel: string;
  notes: string | null;
}

const describeReport = (report: ReportView) => `${report.id}  ${report.callTime}  +${report.presentedCli} → +${report.victim}  (${report.channel})${report.notes ? `  ${report.notes}` : ""}`;

/** Files a report through `POST /v1/reports`; the server reads the numbers and validates every field, naming each bad one. */
const add: CliCommand = {
  name: "reports add",
  summary: "File a fraud report: a call that presented someone else's number",
  options: {
    cli: { type: "string", description: "the caller ID the call presented (required)", valueName: "tn" },
    victim: { type: "string", description: "the number that received the call (required)", valueName: "tn" },
    time: { type: "string", description: "when the call was received, ISO 8601 with an offset (required)", valueName: "instant" },
    channel: { type: "string", description: "where the report came from: call-centre, app, national-bank, … (required)", valueName: "name" },
    notes: { type: "string", description: "what the subscriber said", valueName: "text" },
    reporter: { type: "string", description: "who files it (audit trail; default: the admin token's label)", valueName: "name" },
    ...ADMIN_API_OPTIONS,
  },
  async run(context) {
    const body = {
      presentedCli: requiredOption(context, "cli"),
      victim: requiredOption(context, "victim"),
      time: requiredOption(context, "time"),
      channel: requiredOption(context, "channel"),
      ...(stringOption(context, "notes") ? { notes: stringOption(context, "notes") } : {}),
      ...(stringOption(context, "reporter") ? { reporter: stringOption(context, "reporter") } : {}),
    };
    const { report } = (await callAdminApi(context, "POST", "/v1/reports", body)) as { report: ReportView };
    return { text: `filed ${describeReport(report)}`, json: report };
  },
};

const list: CliCommand = {
  name: "reports list",
  summary: "List fraud reports, newest first",
  options: {
    cli: { type: "string", description: "only reports about this presented CLI", valueName: "tn" },
    since: { type: "string", description: "only reports filed since this instant (ISO 8601)", valueName: "instant" },
    limit: { type: "string", description: "at most this many", valueName: "n" },
    ...ADMIN_API_OPTIONS,
  },
  async run(context) {
    const query = new URLSearchParams();
    for (const name of ["cli", "since", "limit"]) if (stringOption(context, name)) query.set(name, stringOption(context, name)!);
    const { reports } = (await callAdminApi(context, "GET", `/v1/reports?${query}`)) as { reports: ReportView[] };
    return { text: reports.length ? reports.map(describeReport).join("\n") : "no reports", json: reports };
  },
};

export const commands: CliCommand[] = [add, list];
