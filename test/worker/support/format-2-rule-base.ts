/** A rule base as format 2 wrote it, before format 3 kept each keyed rule's id hash: header, padding, keys and expiries (f64), actions (u8), 17 bytes a keyed rule; CLI rules only. */
export function encodeFormat2Base(version: number, cli: [key: number, expiresAt: number | null, actionIndex: number][]): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ format: "shaken-edge rule base 2", version, keyed: { cli: cli.length, destination: 0 }, wholeRules: 0 }));
  const keyedStart = Math.ceil((4 + header.length) / 8) * 8;
  const bytes = new Uint8Array(keyedStart + cli.length * 17);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, header.length, true);
  bytes.set(header, 4);
  cli.forEach(([key, expiresAt, actionIndex], index) => {
    view.setFloat64(keyedStart + index * 8, key, true);
    view.setFloat64(keyedStart + (cli.length + index) * 8, expiresAt ?? Number.POSITIVE_INFINITY, true);
    bytes[keyedStart + cli.length * 16 + index] = actionIndex;
  });
  return bytes;
}
