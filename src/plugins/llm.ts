import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type OpenAI from 'openai';
import type { Config } from '../config.js';
import { createOpenAIClient } from '../llm/openaiClient.js';
import { createLlmReflector } from '../learning/llmReflector.js';
import type { Reflector } from '../learning/reflection.js';
import { createTemplateReflector } from '../learning/templateReflector.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The OpenAI-compatible client, when OPENAI_API_KEY is set. */
    openai: OpenAI | undefined;
    reflector: Reflector;
  }
}

/** The real `openai` client against any OpenAI-compatible URL; without a key, template reflections. */
export default fp(
  async function llm(app: FastifyInstance, opts: { config: Config }) {
    const { llm } = opts.config;
    const client = createOpenAIClient(llm, app.metrics.observeLlmCall);
    if (!client) {
      app.log.warn(
        'OPENAI_API_KEY is not set: reflections are built from a template (task, outcome, feedback) instead of an LLM. Set OPENAI_API_KEY (and OPENAI_BASE_URL for Ollama, vLLM or LiteLLM) for real reflections.',
      );
    }
    app.decorate('openai', client);
    app.decorate(
      'reflector',
      client ? createLlmReflector({ client, model: llm.model, maxPromptChars: llm.maxPromptChars }) : createTemplateReflector(),
    );
  },
  { name: 'llm', dependencies: ['metrics'] },
);
