// The self-rewarding methods a run can use, by the config's `method` (src/run/method.ts): the loop and
// the reports look a run's method up here once and ask it, rather than branching on its name.
import type { Method, MethodName } from './method.js';
import { PSRLM } from './psrlm.js';
import { SRLM } from './srlm.js';

const METHODS: Record<MethodName, Method> = { psrlm: PSRLM, srlm: SRLM };

/** The method of a run; a run written without one (its config predates the choice) is PSRLM, the default. */
export function methodOf(name: string | undefined): Method {
  const key = name ?? 'psrlm';
  if (!Object.hasOwn(METHODS, key)) {
    const known = Object.keys(METHODS).join(', ');
    throw new Error(`unknown method '${key}' in the run's manifest.json: a run's method is one of ${known}`);
  }
  return METHODS[key as MethodName];
}
