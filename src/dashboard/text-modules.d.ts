// Files imported as text with `?raw` (wrangler.toml [[rules]] type = "Text").
declare module "*?raw" {
  const source: string;
  export default source;
}
