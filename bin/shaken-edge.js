#!/usr/bin/env node
// The CLI is TypeScript sharing src/ with the Worker; tsx compiles it on load (Node 20 and 22+).
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2));
