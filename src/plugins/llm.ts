import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type OpenAI from 'openai';
import type { Config } from '../config.js';
import { DEFAULT_OPENAI_EMBEDDING_MODEL } from '../embeddings/index.js';
import { startLlmEndpointCheck, type LlmEndpointCheck } from '../llm/endpointCheck.js';
import { createOpenAIClient } from '../llm/openaiClient.js';
import { createLlmReflector } from '../learning/llmReflector.js';
import type { Reflector } from '../learning/reflection.js';
import { createTemplateReflector } from '../learning/templateReflector.js';
import { createLlmMemoryMerger, createTemplateMemoryMerger, type MemoryMerger } from '../learning/memoryMerger.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The OpenAI-compatible client, when OPENAI_API_KEY is set. */
    openai: OpenAI | undefined;
    reflector: Reflector;
    /** Whether the LLM endpoint answers (for /ready; checked once the server listens). */
    llmEndpoint: LlmEndpointCheck;
    /** Rewrites two near-duplicate lessons as one (consolidation); a template merge without a key. */
    memoryMerger: MemoryMerger;
  }
}

/** The real `openai` client against any OpenAI-compatible URL; without a key, template reflections. */
export default fp(
  async function llm(app: FastifyInstance, opts: { config: Config }) {
    const { llm } = opts.config;
    const client = createOpenAIClient(llm, app.metrics.observeLlmCall, app.llmUsage.begin);
    if (!client) {
      app.log.warn(
        'OPENAI_API_KEY is not set: reflections are built from a template (task, outcome, feedback) instead of an LLM. Set OPENAI_API_KEY (and OPENAI_BASE_URL for Ollama, vLLM or LiteLLM) for real reflections.',
      );
    }
    app.decorate('openai', client);
    const { embedding } = opts.config;
    const llmEndpoint = startLlmEndpointCheck({
      client,
      baseUrl: llm.baseUrl,
      models: [llm.model, ...(embedding.provider === 'openai' ? [embedding.model ?? DEFAULT_OPENAI_EMBEDDING_MODEL] : [])],
      log: app.log,
    });
    app.decorate('llmEndpoint', llmEndpoint);
    // In the background once listening: an unreachable LLM is a warning, not a reason not to start.
    app.addHook('onListen', async () => {
      void llmEndpoint.state();
    });
    app.decorate(
      'reflector',
      client ? createLlmReflector({ client, model: llm.model, maxPromptChars: llm.maxPromptChars }) : createTemplateReflector(),
    );
    app.decorate('memoryMerger', client ? createLlmMemoryMerger({ client, model: llm.model }) : createTemplateMemoryMerger());
  },
  { name: 'llm', dependencies: ['metrics', 'llmUsage'] },
);
