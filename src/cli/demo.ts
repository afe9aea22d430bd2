// `psrlm demo`: runs PSRLM and the SRLM baseline on the synthetic math world from the shipped initial
// checkpoints. Until the loop (issue "[3 of 5]") lands, it says so and exits non-zero.
export async function run(_argv: string[]): Promise<number> {
  console.error(
    'psrlm demo: not available yet. The self-rewarding loop it runs is still being built ' +
      '(see the issue "[3 of 5] The method end to end"). The engine can be exercised now with ' +
      '`npm run bench:engine` and `npm test`.',
  );
  return 1;
}
