import { createRequire } from 'node:module';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import type { InstallationCreatedEvent, InstallationRepositoriesAddedEvent } from '@octokit/webhooks-types';

/**
 * `installation.created` and `installation_repositories.added` payloads from GitHub's own examples
 * (`@octokit/webhooks-examples`), moved to the test's installation and repositories. Each call returns a
 * fresh deep copy.
 */

const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];

export interface InstallationSpec {
  /** `owner/name` of each repository the app is installed on. */
  readonly repositories: readonly string[];
  /** Default 4242, FakeGitHub's installation. */
  readonly installationId?: number;
  /** Who installed the app; default `alice`. */
  readonly sender?: string;
}

export function installationCreatedPayload(spec: InstallationSpec): InstallationCreatedEvent {
  const payload = example('installation', 'created') as unknown as InstallationCreatedEvent;
  moveInstallation(payload as unknown as Record<string, unknown>, spec);
  payload.repositories = spec.repositories.map((fullName, i) => repositoryRef(payload.repositories?.[0], fullName, i)) as InstallationCreatedEvent['repositories'];
  payload.installation.repository_selection = 'selected';
  return payload;
}

export function repositoriesAddedPayload(spec: InstallationSpec): InstallationRepositoriesAddedEvent {
  const payload = example('installation_repositories', 'added') as unknown as InstallationRepositoriesAddedEvent;
  moveInstallation(payload as unknown as Record<string, unknown>, spec);
  payload.repositories_added = spec.repositories.map((fullName, i) => repositoryRef(payload.repositories_added[0], fullName, i)) as InstallationRepositoriesAddedEvent['repositories_added'];
  payload.repositories_removed = [];
  return payload;
}

function example(name: string, action: string): Record<string, unknown> {
  const found = definitions.find((d) => d.name === name)?.examples.find((e) => (e as { action?: string }).action === action);
  if (!found) throw new Error(`@octokit/webhooks-examples has no ${name}.${action}`);
  return structuredClone(found) as Record<string, unknown>;
}

function moveInstallation(payload: Record<string, unknown>, spec: InstallationSpec): void {
  const id = spec.installationId ?? 4242;
  const installation = payload.installation as Record<string, unknown>;
  Object.assign(installation, { id, access_tokens_url: `https://api.github.com/app/installations/${id}/access_tokens`, html_url: `https://github.com/settings/installations/${id}` });
  const sender = payload.sender as Record<string, unknown>;
  const login = spec.sender ?? 'alice';
  payload.sender = { ...sender, login, id: 583231 + login.length, node_id: Buffer.from(`User:${login}`).toString('base64'), url: `https://api.github.com/users/${login}`, html_url: `https://github.com/${login}`, type: 'User' };
}

function repositoryRef(template: unknown, fullName: string, index: number): Record<string, unknown> {
  const name = fullName.split('/')[1] ?? fullName;
  const id = 186853002 + index;
  return { ...(template as object), id, node_id: Buffer.from(`Repository:${id}`).toString('base64'), name, full_name: fullName, private: false };
}
