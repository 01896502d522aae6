import { defaultRepoConfig, parseRepoConfig } from '../config/repo-config.js';
import type { LabelSpec, RepositoryLabels } from '../github/labels.js';

/** The label's look when the bot creates it; a label the maintainers made is never changed. */
export const LABEL_COLOR = '1d76db';
export const LABEL_DESCRIPTION = 'Code4Py turns this issue into a pull request with Python code and its tests';

export interface LabelPorts {
  readonly labels: RepositoryLabels;
  /** The repository's `.github/code4py.yml` as Probot's config plugin reads it, or null. */
  loadConfig(): Promise<unknown>;
}

/**
 * A repository the app was just installed on gets the label that starts a task: the one its
 * `.github/code4py.yml` names (an organisation's defaults included), else `code4py`. Where a label of that
 * name exists, nothing is written. An unreadable or invalid config falls back to the default name: the
 * config's problems are reported on the issue that first triggers a task, not here, where there is none.
 */
export async function ensureTaskLabel(ports: LabelPorts): Promise<{ readonly kind: 'label'; readonly label: string; readonly created: boolean }> {
  const parsed = parseRepoConfig(await ports.loadConfig().catch(() => null));
  const name = parsed.ok ? parsed.config.label : defaultRepoConfig().label;
  const label: LabelSpec = { name, color: LABEL_COLOR, description: LABEL_DESCRIPTION };
  const result = await ports.labels.ensure(label);
  return { kind: 'label', label: name, created: result === 'created' };
}
