// The chat template of psrlm checkpoints: how a list of messages becomes the one prompt the model reads.
// The embedded model is a character-level model with no role tokens, so the template is plain text, one
// turn per line group, and the model ends its turn with its end-of-sequence token:
//
//   System: <content>\n        (any system messages, in place)
//   User: <content>\n
//   Assistant: <content>\n
//   Assistant:                 (the generation prompt: "Assistant: ", the reply follows the space)
//
// With `continue_final_message` the last (assistant) message is left open, "Assistant: <partial>", and the
// model continues it; the reply then holds only the new text, as in vLLM.
import type { ChatMessage } from './protocol.js';

const HEADER: Record<ChatMessage['role'], string> = { system: 'System: ', user: 'User: ', assistant: 'Assistant: ' };

export interface RenderedChat {
  prompt: string;
  /** The open assistant message being continued ('' when a new one starts); echo prepends it. */
  continued: string;
}

export function renderChat(
  messages: ChatMessage[],
  addGenerationPrompt: boolean,
  continueFinal: boolean,
): RenderedChat {
  let prompt = '';
  const last = messages.length - 1;
  messages.forEach((m, i) => {
    prompt += HEADER[m.role] + m.content;
    if (!(continueFinal && i === last)) prompt += '\n';
  });
  if (continueFinal) return { prompt, continued: messages[last]!.content };
  if (addGenerationPrompt) prompt += HEADER.assistant;
  return { prompt, continued: '' };
}
