// Evaluation prompts. `qwen25-math-cot` is the toolkit's template (docs/grading.md §2.1, "Prompt and
// generation"): filled by string formatting, not a chat template, zero-shot, and stripped of spaces at both
// ends (the toolkit's `.strip(" ")`). `step` is the method's step-by-step prompt (paper Fig. 4, see
// docs/method.md §4), the format the policy is trained on.

export const PROMPT_NAMES = ['qwen25-math-cot', 'step'] as const;
export type PromptName = (typeof PROMPT_NAMES)[number];

const QWEN25_MATH_COT =
  '<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n' +
  '<|im_start|>user\n{input}<|im_end|>\n' +
  '<|im_start|>assistant\n';

const STEP =
  'Let\'s think step by step and solve the following math problem. Use "Step n: " before each step to ' +
  'distinguish between different steps, where n is a positive integer starting from 1, representing the ' +
  'current step number. Put your final answer in \\boxed{}.\n\nProblem: {input}';

/** The toolkit's stop strings; its Qwen2 stop token ids are the engine's business (EOS). */
export const STOP_WORDS = ['</s>', '<|im_end|>', '<|endoftext|>'];

export function buildPrompt(name: string, question: string): string {
  const tpl = name === 'qwen25-math-cot' ? QWEN25_MATH_COT : name === 'step' ? STEP : undefined;
  if (tpl === undefined) throw new Error(`unknown prompt '${name}': use one of ${PROMPT_NAMES.join(', ')}`);
  return tpl.replace('{input}', () => question).replace(/^ +| +$/g, '');
}

/** The toolkit's output cleaning: strip, then cut at the first stop word (and strip again). */
export function cleanOutput(text: string): string {
  let out = text.trim();
  for (const w of STOP_WORDS) {
    const at = out.indexOf(w);
    if (at >= 0) out = out.slice(0, at).trim();
  }
  return out;
}
