import { UsageError } from '../errors.js';
import { DEFAULT_BASE_URL } from './transport.js';

interface ModelEndpoint {
  /** Empty for a server that needs no key: the openai SDK is then given a placeholder (transport.ts). */
  readonly apiKey: string;
  readonly baseURL: string;
}

/**
 * The one rule for the model key, shared by the bot and the CLI: OPENAI_API_KEY is required for OpenAI
 * itself, that is when OPENAI_BASE_URL is unset; with OPENAI_BASE_URL set it is optional (Ollama, vLLM and
 * llama.cpp's server need none unless they were started with one; hosted ones such as Azure or OpenRouter do).
 * `otherwise` names a further way out, for the CLI's transcripts.
 */
export function modelEndpoint(vars: { readonly OPENAI_API_KEY?: string | undefined; readonly OPENAI_BASE_URL?: string | undefined }, otherwise = ''): ModelEndpoint {
  if (!vars.OPENAI_API_KEY && !vars.OPENAI_BASE_URL) {
    throw new UsageError(
      'no model is configured: set OPENAI_API_KEY to your OpenAI API key, or point OPENAI_BASE_URL at an OpenAI-compatible server ' +
        `(Ollama: http://localhost:11434/v1, vLLM: http://localhost:8000/v1, llama.cpp: http://localhost:8080/v1), which needs no key${otherwise}.`,
    );
  }
  return { apiKey: vars.OPENAI_API_KEY ?? '', baseURL: vars.OPENAI_BASE_URL ?? DEFAULT_BASE_URL };
}
