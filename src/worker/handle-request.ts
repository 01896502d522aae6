import { helpText, mentionsCommand, parseCommand } from '../commands.js';
import { runRefineTask } from '../pipeline/refine.js';
import { parseRepoConfig, type RepoConfig } from '../config/repo-config.js';
import type { GitHubApi } from '../github/api.js';
import { permissionReaches } from '../github/api.js';
import type { RepositoryLabels } from '../github/labels.js';
import type { TaskRequest } from '../webhooks/requests.js';
import { runRerun } from '../pipeline/rerun.js';
import type { TaskPorts } from '../pipeline/ports.js';
import { runGenerateTask, type TaskOutcome } from '../pipeline/run-task.js';
import { ensureTaskLabel } from './ensure-label.js';

/** What one request turned into, for the store and the logs. */
export type HandledOutcome =
  | TaskOutcome
  | { readonly kind: 'rerun'; readonly passed: boolean }
  | { readonly kind: 'refined'; readonly commit: string; readonly passed: true }
  | { readonly kind: 'not-ours' }
  | { readonly kind: 'ignored'; readonly why: string }
  | { readonly kind: 'answered'; readonly what: 'help' | 'invalid-config' | 'not-yet' | 'cancel' }
  | { readonly kind: 'label'; readonly label: string; readonly created: boolean };

export interface RequestPorts extends Omit<TaskPorts, 'github'> {
  readonly github: GitHubApi;
  /** `cancel`: drops the issue's queued task, asks its running one to stop (the worker kills its sandbox). */
  cancelIssue?(): { dropped: number; stopping: number } | Promise<{ dropped: number; stopping: number }>;
  /** The repository's `.github/code4py.yml` as Probot's config plugin reads it (with `_extends`), or null. */
  loadConfig(): Promise<unknown>;
  /** The repository's labels: only a task about the repository itself (`installed`) uses them. */
  readonly labels?: RepositoryLabels;
}

/**
 * Turns a queued delivery into work: reads the repository's config (an invalid file gets a comment naming
 * the key, and nothing else happens), decides what the trigger asks for, and runs it.
 */
export async function handleRequest(taskId: string, request: TaskRequest, ports: RequestPorts): Promise<HandledOutcome> {
  if (request.trigger.kind === 'installed') {
    if (!ports.labels) throw new Error('a repository task needs the repository labels port');
    return ensureTaskLabel({ labels: ports.labels, loadConfig: ports.loadConfig });
  }
  const parsed = parseRepoConfig(await ports.loadConfig());
  if (!parsed.ok) {
    if (!ports.checkpoints.get().configComment) {
      await ports.github.createComment(request.issueNumber, parsed.message);
      ports.checkpoints.set('configComment', true);
    }
    return { kind: 'answered', what: 'invalid-config' };
  }
  const config: RepoConfig = parsed.config;
  // The worker's own failure and cancel messages name the repository's command word.
  ports.checkpoints.set('command', config.command);
  const generate = (instructions?: string, commentId?: number, senderTrusted = false) =>
    runGenerateTask(
      { taskId, issueNumber: request.issueNumber, sender: request.sender, config, senderTrusted, ...(instructions ? { instructions } : {}), ...(commentId ? { commentId } : {}) },
      ports,
    );

  const trigger = request.trigger;
  if (trigger.kind === 'rerun') {
    return runRerun({ taskId, issueNumber: request.issueNumber, sender: request.sender, headSha: trigger.headSha, config }, ports);
  }
  const refine = (feedback: { body: string; path?: string; line?: number }) =>
    runRefineTask({ taskId, pullNumber: request.issueNumber, sender: request.sender, feedback: [{ author: request.sender, ...feedback }], config }, ports);
  if (trigger.kind === 'review') {
    const asked = mentionsCommand(trigger.body, config.command) || trigger.state.toLowerCase() === 'changes_requested';
    return asked && trigger.body.trim() ? refine({ body: trigger.body }) : { kind: 'ignored', why: 'the review asks for nothing' };
  }
  if (trigger.kind === 'review-comment') {
    if (!mentionsCommand(trigger.body, config.command)) return { kind: 'ignored', why: 'the comment does not mention the command' };
    return refine({ body: trigger.body, path: trigger.path, ...(trigger.line !== null ? { line: trigger.line } : {}) });
  }
  if (trigger.kind === 'answer') {
    // The issue's author may answer the questions whatever their permission; others need it.
    const issue = await ports.github.getIssue(request.issueNumber);
    const isAuthor = issue.author.toLowerCase() === request.sender.toLowerCase();
    // Anyone else's comment (a "+1") is no answer, and gets no reply: the issue keeps waiting.
    if (!isAuthor && !permissionReaches(await ports.github.permissionOf(request.sender), config.permission)) return { kind: 'ignored', why: 'not an answer' };
    return generate(undefined, trigger.commentId, true);
  }
  if (trigger.kind === 'label') {
    return trigger.labels.includes(config.label) ? generate() : { kind: 'ignored', why: `no ${config.label} label` };
  }
  const command = parseCommand(trigger.body, config.command);
  if (!command) return { kind: 'ignored', why: 'no command' };
  switch (command.kind) {
    case 'generate':
      if (trigger.isPullRequest) return answer(ports.github, request, config, 'not-yet', `\`${config.command} generate\` works on issues; on the bot's pull request use \`${config.command} refine <feedback>\`.`);
      return generate(command.instructions || undefined, trigger.commentId);
    case 'retry':
      return trigger.isPullRequest ? answer(ports.github, request, config, 'not-yet', `\`${config.command} retry\` works on the issue the pull request closes.`) : generate(undefined, trigger.commentId);
    case 'help':
      return answer(ports.github, request, config, 'help', helpText({ command: config.command, label: config.label, permission: config.permission }, command.problem));
    case 'unknown':
      return answer(ports.github, request, config, 'help', helpText({ command: config.command, label: config.label, permission: config.permission }, `Code4Py does not know \`${command.word}\`.`));
    case 'cancel': {
      const permission = await ports.github.permissionOf(request.sender);
      if (!permissionReaches(permission, config.permission) || !ports.cancelIssue) return { kind: 'ignored', why: 'sender lacks permission' };
      const { dropped, stopping } = await ports.cancelIssue();
      const what = stopping > 0 ? 'the running task is stopping (its sandbox is killed)' : dropped > 0 ? 'the queued task was dropped' : 'there was no task to cancel';
      await ports.github.createComment(request.issueNumber, `🛑 Cancelled by @${request.sender}: ${what}.`);
      return { kind: 'answered', what: 'cancel' };
    }
    case 'refine':
      if (!trigger.isPullRequest) return answer(ports.github, request, config, 'not-yet', `\`${config.command} refine\` works on the pull request Code4Py opened; on the issue use \`${config.command} generate <instructions>\`.`);
      return refine({ body: command.feedback });
  }
}

async function answer(github: GitHubApi, request: TaskRequest, config: RepoConfig, what: 'help' | 'not-yet', text: string): Promise<HandledOutcome> {
  // Answers are cheap, but still only for people who may use the bot.
  const permission = await github.permissionOf(request.sender);
  if (!permissionReaches(permission, config.permission)) return { kind: 'ignored', why: 'sender lacks permission' };
  await github.createComment(request.issueNumber, text);
  return { kind: 'answered', what };
}
