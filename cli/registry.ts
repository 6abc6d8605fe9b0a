import type { CliCommand } from "./command";
import { commands as ca } from "./commands/ca";
import { commands as config } from "./commands/config";
import { commands as cert } from "./commands/cert";
import { commands as crl } from "./commands/crl";
import { commands as csr } from "./commands/csr";
import { commands as invite } from "./commands/invite";
import { commands as key } from "./commands/key";
import { commands as calls } from "./commands/calls";
import { commands as passport } from "./commands/passport";
import { commands as reports } from "./commands/reports";
import { commands as repo } from "./commands/repo";
import { commands as rules } from "./commands/rules";
import { commands as trust } from "./commands/trust";

/** Every command of `shaken-edge`, in help order. A new command group is one file under commands/ and one line here. */
export const COMMANDS: CliCommand[] = [...ca, ...key, ...csr, ...cert, ...crl, ...trust, ...passport, ...invite, ...repo, ...rules, ...reports, ...config, ...calls];
