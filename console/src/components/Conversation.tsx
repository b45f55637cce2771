import type { Message } from '../api/types.ts';
import { Folded, JsonBlock } from './ui.tsx';

/**
 * A trajectory replayed as a conversation. Everything in it is untrusted input: it is rendered
 * as text nodes only (never as HTML, never as links), so markup or `javascript:` URLs stay inert.
 */
export function Conversation({ messages, finalResponse }: { messages: Message[]; finalResponse: string }) {
  return (
    <ol class="conversation">
      {messages.map((m, i) => (
        <MessageItem key={i} message={m} />
      ))}
      <li class="msg msg-final">
        <div class="msg-role">final response</div>
        {finalResponse ? <Folded text={finalResponse} limit={2000} /> : <p class="muted">(empty)</p>}
      </li>
    </ol>
  );
}

const KNOWN = new Set(['role', 'content', 'tool_calls', 'tool_call_id', 'name']);

function MessageItem({ message }: { message: Message }) {
  const role = String(message.role);
  const extra = Object.fromEntries(Object.entries(message).filter(([k]) => !KNOWN.has(k)));
  const isTool = role === 'tool' || role === 'function';
  const body = (
    <>
      <Content content={message.content} />
      {Array.isArray(message.tool_calls) ? (message.tool_calls as unknown[]).map((call, i) => <ToolCall key={i} call={call} />) : null}
      {Object.keys(extra).length ? (
        <details class="fold">
          <summary>Other fields</summary>
          <JsonBlock value={extra} />
        </details>
      ) : null}
    </>
  );
  return (
    <li class={`msg msg-${roleClass(role)}`}>
      <div class="msg-role">
        {role}
        {message.name ? <span class="muted"> · {String(message.name)}</span> : null}
      </div>
      {isTool ? (
        <details class="fold tool-result" open>
          <summary>Tool result{message.tool_call_id ? ` (${String(message.tool_call_id)})` : ''}</summary>
          {body}
        </details>
      ) : (
        body
      )}
    </li>
  );
}

function roleClass(role: string): string {
  return ['user', 'assistant', 'system', 'tool', 'function', 'summary', 'developer'].includes(role) ? role : 'other';
}

function Content({ content }: { content: unknown }) {
  if (content === undefined || content === null || content === '') return null;
  if (typeof content === 'string') return <Folded text={content} />;
  if (Array.isArray(content)) {
    return (
      <>
        {content.map((part, i) => {
          const p = part as Record<string, unknown>;
          if (typeof part === 'string') return <Folded key={i} text={part} />;
          if (p && typeof p.text === 'string') return <Folded key={i} text={p.text} />;
          if (p && p.type === 'tool_use') return <ToolCall key={i} call={{ function: { name: p.name, arguments: p.input }, id: p.id }} />;
          if (p && p.type === 'tool_result')
            return (
              <details key={i} class="fold tool-result" open>
                <summary>Tool result{p.tool_use_id ? ` (${String(p.tool_use_id)})` : ''}</summary>
                <Content content={p.content} />
              </details>
            );
          return <JsonBlock key={i} value={part} />;
        })}
      </>
    );
  }
  return <JsonBlock value={content} />;
}

function ToolCall({ call }: { call: unknown }) {
  const c = (call ?? {}) as { id?: unknown; function?: { name?: unknown; arguments?: unknown }; name?: unknown; arguments?: unknown };
  const name = String(c.function?.name ?? c.name ?? 'tool');
  let args = c.function?.arguments ?? c.arguments;
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      // Shown as the string it is.
    }
  }
  return (
    <details class="fold tool-call" open>
      <summary>
        Tool call <code>{name}</code>
        {c.id ? <span class="muted"> ({String(c.id)})</span> : null}
      </summary>
      {typeof args === 'string' ? <pre class="json">{args}</pre> : <JsonBlock value={args} />}
    </details>
  );
}
