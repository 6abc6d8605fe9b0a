import { stringOption, type CliCommand } from "../command";
import { ADMIN_API_OPTIONS, callAdminApi } from "./rules";

/** `shaken-edge reports list`: fraud reports held by a running instance (issue 4 "Fraud reports"). */
interface ReportView {
  id: string;
  victim: string;
  presentedCli: string;
  callTime: string;
  channel: string;
  notes: string | null;
}

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
    const line = (report: ReportView) => `${report.id}  ${report.callTime}  +${report.presentedCli} → +${report.victim}  (${report.channel})${report.notes ? `  ${report.notes}` : ""}`;
    return { text: reports.length ? reports.map(line).join("\n") : "no reports", json: reports };
  },
};

export const commands: CliCommand[] = [list];
