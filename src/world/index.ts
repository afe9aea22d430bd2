// The world's public API, in one place for the search, judge, training and evaluation code (docs/world.md
// "APIs"). Everything here is pure and seeded: no engine, no file system.
export * from './generator.js';
export * from './format.js';
export * from './verifier.js';
export * from './mistakes.js';
export { WorldRng, seedOf, hashText } from './rng.js';
export * from './columns.js';
