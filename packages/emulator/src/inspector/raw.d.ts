// The inspector's page, script and style are plain files imported as text: vite (tests) and the
// package's rollup build (raw-text plugin) both turn `?raw` imports into a string.
declare module "*?raw" {
  const text: string;
  export default text;
}
