import type { Probot } from 'probot';
import { z } from 'zod';
import type { Intake } from '../app.js';
import { payloadOf } from './payload.js';
import { Installation, REPOSITORY_TASK, type TaskRequest } from './requests.js';

/**
 * At most this many repositories of one installation event get a label task; the rest get none (the
 * maintainers create the label there, or use the `/code4py` command, which needs no label). An organisation
 * that installs the app on every one of its thousands of repositories must not queue thousands of writes.
 */
export const LABEL_REPOSITORIES_PER_EVENT = 100;

const Repository = z.object({ name: z.string().min(1), full_name: z.string().regex(/^[^/]+\/[^/]+$/) });
const Sender = z.object({ login: z.string().min(1) });

/** The fields of `installation.created` the bot uses: the repositories the app was installed on. */
const InstallationCreatedSchema = z.object({
  action: z.literal('created'),
  installation: Installation,
  repositories: z.array(Repository).optional().default([]),
  sender: Sender,
});

/** The fields of `installation_repositories.added` the bot uses. */
const RepositoriesAddedSchema = z.object({
  action: z.literal('added'),
  installation: Installation,
  repositories_added: z.array(Repository),
  sender: Sender,
});

/**
 * One label task per repository the app was installed on, up to LABEL_REPOSITORIES_PER_EVENT. Each has a
 * delivery id of its own (the delivery's, then the repository), so a redelivered event queues nothing twice.
 */
function labelRequests(deliveryId: string, installationId: number, sender: string, repositories: ReadonlyArray<{ full_name: string }>): TaskRequest[] {
  return repositories.slice(0, LABEL_REPOSITORIES_PER_EVENT).map(({ full_name }) => {
    const [owner = '', repo = ''] = full_name.split('/');
    return { deliveryId: `${deliveryId}:${full_name}`, installationId, owner, repo, issueNumber: REPOSITORY_TASK, sender, trigger: { kind: 'installed' } };
  });
}

/**
 * `installation.created` and `installation_repositories.added`: queue the label tasks and answer. As for
 * every event, the handler does no network I/O; the worker reads and creates the labels.
 */
export function installationHandlers(intake: Intake) {
  return (app: Probot): void => {
    const take = async (context: { id: string; log: Probot['log'] }, installationId: number, sender: string, repositories: ReadonlyArray<{ full_name: string }>) => {
      let queued = 0;
      for (const request of labelRequests(context.id, installationId, sender, repositories)) if ((await intake.accept(request)).queued) queued++;
      const beyond = Math.max(0, repositories.length - LABEL_REPOSITORIES_PER_EVENT);
      const meta = { deliveryId: context.id, installationId, repositories: repositories.length, queued };
      if (beyond > 0) context.log.warn({ ...meta, withoutLabelTask: beyond, bound: LABEL_REPOSITORIES_PER_EVENT }, 'installed on more repositories than get a label task; the rest need the label made by hand');
      else context.log.info(meta, 'installed: label tasks queued');
    };

    /** Parses the payload, then queues the label tasks for the repositories `repositoriesOf` reads from it. */
    const handle =
      <T extends z.ZodType<{ installation: { id: number }; sender: { login: string } }>>(event: string, schema: T, repositoriesOf: (payload: z.infer<T>) => ReadonlyArray<{ full_name: string }>) =>
      async (context: { id: string; log: Probot['log']; payload: unknown }) => {
        const p = payloadOf(context, event, schema);
        if (p) await take(context, p.installation.id, p.sender.login, repositoriesOf(p));
      };

    app.on('installation.created', handle('installation', InstallationCreatedSchema, (p) => p.repositories));
    app.on('installation_repositories.added', handle('installation_repositories', RepositoriesAddedSchema, (p) => p.repositories_added));
  };
}
