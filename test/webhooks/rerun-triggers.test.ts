import { describe, expect, it } from 'vitest';
import { branchOf, CheckRunPayloadSchema, CheckSuitePayloadSchema, checkRunExternalId, issueOfBranch, issueOfExternalId, issueOfRerun } from '../../src/webhooks/requests.js';
import { checkRunRerequestedPayload, checkSuiteRerequestedPayload } from '../helpers/webhook-payloads.js';

const SHA = 'a'.repeat(40);

describe('which issue a re-run is for', () => {
  it("reads the check run's external id back, and nothing else", () => {
    const id = checkRunExternalId(12, '0b7e6c1e-9d0e-4a51-a3f1-5d3c2f8e9a10');
    expect(id).toBe('code4py/issue-12@0b7e6c1e-9d0e-4a51-a3f1-5d3c2f8e9a10');
    expect(issueOfExternalId(id)).toBe(12);
    expect(issueOfExternalId('code4py/issue-12')).toBe(12);
    for (const other of ['', null, undefined, 'ci-17', 'code4py/issue-12x', 'xcode4py/issue-12@t', '@code4py/issue-12', 'code4py/issue-@12']) expect(issueOfExternalId(other)).toBeNull();
  });

  it('reads back the branch it names for an issue, and no other branch', () => {
    expect(branchOf(7)).toBe('code4py/issue-7');
    expect(issueOfBranch(branchOf(7))).toBe(7);
    for (const other of [null, '', 'main', 'code4py/issue-', 'code4py/issue-7/x', 'feature/code4py/issue-7']) expect(issueOfBranch(other)).toBeNull();
  });

  it('takes the branch first, then a pull request of the bot, then the external id', () => {
    expect(issueOfRerun({ headBranch: 'code4py/issue-3', pullRequests: [{ head: { ref: 'code4py/issue-4' } }], externalId: 'code4py/issue-5@t' })).toBe(3);
    expect(issueOfRerun({ headBranch: null, pullRequests: [{ head: { ref: 'feature' } }, { head: { ref: 'code4py/issue-4' } }], externalId: 'code4py/issue-5@t' })).toBe(4);
    expect(issueOfRerun({ headBranch: null, pullRequests: [], externalId: 'code4py/issue-5@t' })).toBe(5);
    expect(issueOfRerun({ headBranch: 'main', pullRequests: [{ head: { ref: 'feature' } }], externalId: '' })).toBeNull();
  });
});

describe("the re-run payloads, as GitHub sends them", () => {
  it('parses check_run.rerequested with head_branch null, its pull requests and external id', () => {
    const payload = checkRunRerequestedPayload({ headSha: SHA, headBranch: null, externalId: 'code4py/issue-2@t', pullRequests: [{ number: 9, head: 'code4py/issue-2' }] });
    const run = CheckRunPayloadSchema.parse(payload).check_run;
    expect(run).toMatchObject({ head_sha: SHA, external_id: 'code4py/issue-2@t', check_suite: { head_branch: null }, pull_requests: [{ number: 9, head: { ref: 'code4py/issue-2' } }] });
  });

  it('parses check_suite.rerequested with its head commit and pull requests', () => {
    const payload = checkSuiteRerequestedPayload({ headSha: SHA, headBranch: null, pullRequests: [{ number: 9, head: 'code4py/issue-2' }] });
    expect(CheckSuitePayloadSchema.parse(payload).check_suite).toEqual({ head_sha: SHA, head_branch: null, pull_requests: [{ number: 9, head: { ref: 'code4py/issue-2' } }] });
  });
});
