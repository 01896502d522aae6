import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { AnswerName } from '../schemas.js';
import type { AnalysisInput, FailureFeedback, RepoFile, ReviewFeedback, SolutionInput, TaskText } from '../types.js';
import { DataFence, visibleText } from '../untrusted.js';
import { ANALYSIS_SYSTEM_PROMPT, SOLUTION_SYSTEM_PROMPT } from './system.js';

/** Limits that keep one noisy test run or a long thread from crowding out the task. */
const MAX_COMMENTS = 30;
const MAX_FAILING_TESTS = 20;
const MAX_FINDINGS = 40;
const MAX_DETAIL_CHARS = 1_500;

export function analysisMessages(input: AnalysisInput, fence = new DataFence()): ChatCompletionMessageParam[] {
  return [
    { role: 'system', content: ANALYSIS_SYSTEM_PROMPT },
    {
      role: 'user',
      content: [fence.explain(), taskSection(input.task, fence), 'Analyse this task and answer with the `code4py_analysis` object.'].join('\n\n'),
    },
  ];
}

export function solutionMessages(input: SolutionInput, fence = new DataFence()): ChatCompletionMessageParam[] {
  const a = input.analysis;
  const sections = [
    fence.explain(),
    taskSection(input.task, fence),
    '## The task as analysed (your earlier answer; also data)\n' +
      fence.wrap(
        'ANALYSIS',
        [
          `intent: ${a.intent}`,
          `module: ${a.module}`,
          `title: ${a.title}`,
          'requirements:',
          ...a.requirements.map((r) => `- ${r}`),
          'assumptions:',
          ...a.assumptions.map((r) => `- ${r}`),
        ].join('\n'),
      ),
  ];
  if (input.context.length > 0) sections.push(`## Repository files on the base branch\n${files(input.context, 'FILE', fence)}`);
  let ask = 'Write the code and its tests, and answer with the `code4py_solution` object.';
  if (input.repair) {
    sections.push(`## Your previous attempt\n${files(input.repair.previous.map(asRepoFile), 'PREVIOUS', fence)}`);
    sections.push(`## Why it failed validation\n${fence.wrap('FAILURES', failures(input.repair.failures))}`);
    ask =
      'Fix every failure above. Change the code when it is wrong; change a test only when the test contradicts the requirements. ' +
      'Answer with the complete `code4py_solution` object: every file of the solution, changed or not.';
  }
  if (input.strengthen) {
    sections.push(`## Your solution, which passed validation\n${files(input.strengthen.current.map(asRepoFile), 'CURRENT', fence)}`);
    sections.push(`## Changes to the code that no test notices (mutants)\n${fence.wrap('SURVIVORS', input.strengthen.survivors)}`);
    ask =
      'Strengthen the tests: add or change tests so that each change above would make at least one test fail, ' +
      'while every test still passes on the code as it is. Do not change the code under test: only test files are kept from this answer. ' +
      'Answer with the `code4py_solution` object holding the test files.';
  }
  if (input.refinement) {
    sections.push(`## The pull request's files now\n${files(input.refinement.current, 'CURRENT', fence)}`);
    sections.push(`## The reviewer's feedback (verbatim)\n${input.refinement.feedback.map((f) => fence.wrap('REVIEW', review(f))).join('\n')}`);
    ask =
      'Apply the reviewer\'s feedback, keeping the tests passing and adding tests for changed behaviour. ' +
      'Answer with the complete `code4py_solution` object: every file of the solution, changed or not.';
  }
  sections.push(ask);
  return [
    { role: 'system', content: SOLUTION_SYSTEM_PROMPT },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

/** For servers that reject `response_format`: the schema goes into the prompt and the answer into a fence. */
export function fencedAnswerInstruction(name: AnswerName, jsonSchema: object): string {
  return (
    `\n\nThis server cannot enforce the answer format, so answer with exactly one \`\`\`json fenced block holding ` +
    `the \`${name}\` object; text outside the block is ignored. The object must follow this JSON Schema: ${JSON.stringify(jsonSchema)}`
  );
}

/** The one corrective follow-up: the problems (keys and rules, never values), and the request to answer again. */
export function correctiveMessage(problems: readonly string[], truncated: boolean, fenced: boolean): string {
  const how = fenced ? 'in one ```json fenced block' : 'as the JSON object';
  if (truncated) {
    return (
      `Your answer was cut off at the length limit. Answer again ${how}, shorter: a brief summary, ` +
      'no long comments, and `patch` instead of `content` for small changes to existing files.'
    );
  }
  return `Your answer could not be used:\n${problems.map((p) => `- ${p}`).join('\n')}\nAnswer again ${how}, complete and corrected (the whole answer, not only the fix).`;
}

function taskSection(task: TaskText, fence: DataFence): string {
  const issue = `# ${visibleText(task.title)}\n\n${visibleText(task.body) || '(no description)'}`;
  const parts = [`## The task${task.number === undefined ? '' : ` (issue #${task.number})`}\n${fence.wrap('ISSUE', issue)}`];
  const comments = task.comments.slice(-MAX_COMMENTS);
  if (comments.length > 0) {
    parts.push(`## Comments on the issue, oldest first\n${comments.map((c) => fence.wrap('COMMENT', `@${visibleText(c.author)} wrote:\n${visibleText(c.body)}`)).join('\n')}`);
  }
  const instructions = task.instructions ? visibleText(task.instructions) : '';
  if (instructions) parts.push(`## Extra instructions given with the command\n${fence.wrap('INSTRUCTIONS', instructions)}`);
  return parts.join('\n\n');
}

function files(list: readonly RepoFile[], label: string, fence: DataFence): string {
  return list.map((f) => fence.wrap(label, `path: ${f.path}\n${f.content}`)).join('\n');
}

function asRepoFile(file: { path: string; content: string | null; patch: string | null }): RepoFile {
  return { path: file.path, content: file.content ?? `(a patch against the base branch)\n${file.patch ?? ''}` };
}

function failures(feedback: FailureFeedback): string {
  const lines = [...feedback.summaries];
  const tests = feedback.failingTests.slice(0, MAX_FAILING_TESTS);
  if (tests.length > 0) lines.push('', 'Failing tests:');
  for (const t of tests) {
    lines.push(`- ${t.id} (${t.outcome})${t.message ? `: ${clip(t.message)}` : ''}`);
    if (t.details) lines.push(indent(clip(t.details)));
  }
  const findings = feedback.findings.slice(0, MAX_FINDINGS);
  if (findings.length > 0) lines.push('', 'Findings:');
  for (const f of findings) lines.push(`- ${f.path}:${f.line} ${f.rule} (${f.severity}): ${clip(f.message)}`);
  const rejected = feedback.rejectedPaths ?? [];
  if (rejected.length > 0) lines.push('', 'Files not written (refused by the path policy, or a patch that did not apply to the current file):');
  for (const r of rejected) lines.push(`- ${r.path}: ${r.reason}`);
  const left = feedback.failingTests.length - tests.length + feedback.findings.length - findings.length;
  if (left > 0) lines.push('', `(${left} more not shown)`);
  return lines.join('\n');
}

function review(feedback: ReviewFeedback): string {
  const where = feedback.path ? ` on ${feedback.path}${feedback.line ? ` line ${feedback.line}` : ''}` : '';
  const who = feedback.author ? `@${visibleText(feedback.author)}` : 'The reviewer';
  return `${who} wrote${where}:\n${visibleText(feedback.body)}`;
}

function clip(text: string): string {
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}… (cut)` : text;
}

function indent(text: string): string {
  return text.replace(/^/gm, '    ');
}
