import type { GitHubApi } from '../github/api.js';

/**
 * The one comment that tells an issue how its task is going. Every GitHub write costs about a second
 * under GitHub's pacing, so progress edits are coalesced: one is sent only when `minIntervalMs` has passed
 * since the last write; `finish` always writes.
 */
export class StatusComment {
  private lastWrite = 0;

  constructor(
    private readonly github: GitHubApi,
    private readonly issue: number,
    private id: number | null,
    private readonly onCreated: (id: number) => void,
    private readonly minIntervalMs = 15_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Shows progress; skipped when the last write was too recent (the final text replaces it anyway). */
  async progress(text: string): Promise<void> {
    if (this.id !== null && this.now() - this.lastWrite < this.minIntervalMs) return;
    await this.write(text);
  }

  async finish(text: string): Promise<void> {
    await this.write(text);
  }

  private async write(text: string): Promise<void> {
    const body = `${text}\n\n<sub>Code4Py · \`/code4py help\` lists the commands</sub>`;
    if (this.id === null) {
      this.id = await this.github.createComment(this.issue, body);
      this.onCreated(this.id);
    } else {
      await this.github.updateComment(this.id, body);
    }
    this.lastWrite = this.now();
  }
}
