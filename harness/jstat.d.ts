// jstat ships no type declarations; harness/stats.ts narrows the parts it uses.
declare module 'jstat' {
  const jstat: unknown;
  export default jstat;
}
