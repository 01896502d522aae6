import type { ProbotOctokit } from 'probot';
import { z } from 'zod';
import { GitHubApiError } from './errors.js';
import { callGitHub } from './call.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface LabelSpec {
  readonly name: string;
  /** Six hex digits, no `#`. */
  readonly color: string;
  /** At most 100 characters. */
  readonly description: string;
}

/** A repository's labels, as far as the bot touches them. */
export interface RepositoryLabels {
  /** Creates the label unless the repository has one of that name (which is then left as it is). */
  ensure(label: LabelSpec): Promise<'created' | 'present'>;
}

const SECONDARY_RETRIES = 3;
const MAX_WAIT_MS = 120_000;

/**
 * RepositoryLabels on Probot's installation Octokit, whose throttling paces the create like every other
 * write. A secondary rate limit is waited out and retried, as OctokitGitHub does.
 */
export class OctokitLabels implements RepositoryLabels {
  constructor(
    private readonly octokit: Octokit,
    readonly owner: string,
    readonly repo: string,
  ) {}

  async ensure(label: LabelSpec): Promise<'created' | 'present'> {
    const ref = { owner: this.owner, repo: this.repo };
    // Read first: a label that is there costs no write, and its colour and description stay the maintainers'.
    const found = await this.call(`reading the label ${label.name}`, () => this.octokit.rest.issues.getLabel({ ...ref, name: label.name }).then(() => true), false);
    if (found) return 'present';
    try {
      await this.call(`creating the label ${label.name}`, () => this.octokit.rest.issues.createLabel({ ...ref, ...label }));
      return 'created';
    } catch (error) {
      // Someone made it between the read and the create.
      if (error instanceof GitHubApiError && error.status === 422 && alreadyExists(error.cause)) return 'present';
      throw error;
    }
  }

  private call<T>(what: string, fn: () => Promise<T>, ifMissing?: T): Promise<T> {
    return callGitHub(what, fn, { ...(ifMissing !== undefined ? { ifMissing } : {}), secondaryRetries: SECONDARY_RETRIES, maxWaitMs: MAX_WAIT_MS });
  }
}

const ValidationErrors = z.object({ response: z.object({ data: z.object({ errors: z.array(z.object({ code: z.string() })) }) }) });

function alreadyExists(cause: unknown): boolean {
  const parsed = ValidationErrors.safeParse(cause);
  return parsed.success && parsed.data.response.data.errors.some((e) => e.code === 'already_exists');
}
