import { afterEach, beforeEach } from 'vitest';
import { FakeGitHub } from './fake-github.js';
import { serveFakeGitHub, type FakeGitHubServer } from './fake-github-http.js';

// Apart from fake-github-http.ts because it registers vitest hooks: the intake benchmark's fakes import that
// file outside vitest, where importing vitest throws.

export interface FakeGitHubOverHttp {
  readonly github: FakeGitHub;
  readonly server: FakeGitHubServer;
}

/**
 * For each test of the file: a FakeGitHub holding `octo/calc` (alice may write) with its issue #1 "Add a
 * word counter", served over HTTP on loopback. After the test the server closes, and any request that broke
 * GitHub's OpenAPI description fails it. Call it before registering hooks that stop a bot using the server,
 * so those run first.
 */
export function useFakeGitHubServer(): FakeGitHubOverHttp {
  let current: FakeGitHubOverHttp | undefined;
  beforeEach(async () => {
    const github = new FakeGitHub();
    github.addRepo({ owner: 'octo', name: 'calc' });
    github.setPermission('octo/calc', 'alice', 'write');
    github.addIssue('octo/calc', { title: 'Add a word counter', author: 'alice' });
    current = { github, server: await serveFakeGitHub(github) };
  });
  afterEach(async () => {
    const ended = current;
    current = undefined;
    await ended?.server.close();
    ended?.github.assertNoViolations();
  });
  const now = (): FakeGitHubOverHttp => {
    if (!current) throw new Error('useFakeGitHubServer: the fake GitHub is served only while a test of the file runs');
    return current;
  };
  return {
    get github() {
      return now().github;
    },
    get server() {
      return now().server;
    },
  };
}
