/** A chat message as the agent sent it: a string `role`, every other field kept as sent. */
export type Message = { role: string; content?: unknown; [field: string]: unknown };

function isMessageList(value: unknown): value is Message[] {
  return (
    Array.isArray(value) &&
    value.every((m) => typeof m === 'object' && m !== null && !Array.isArray(m) && typeof (m as Message).role === 'string')
  );
}

/**
 * The three accepted forms, as one message list: a list as sent; a string holding such a JSON
 * list; any other text kept whole as one `summary` message.
 */
export function normalizeTrajectory(input: Message[] | string): Message[] {
  if (typeof input !== 'string') return input;
  const trimmed = input.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (isMessageList(parsed)) return parsed;
    } catch {
      // Not JSON after all: plain text.
    }
  }
  return [{ role: 'summary', content: input }];
}

/** Text of a message's content: a string, or the text parts of a multi-part content list. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'string' ? part : typeof part?.text === 'string' ? part.text : ''))
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

/** The content of the last `assistant` message, else "". */
export function finalResponseOf(trajectory: Message[]): string {
  for (let i = trajectory.length - 1; i >= 0; i--) {
    if (trajectory[i]!.role === 'assistant') return messageText(trajectory[i]!.content);
  }
  return '';
}
