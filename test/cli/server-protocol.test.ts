import { describe, expect, it } from 'vitest';
import { differingVariables, lineReader, MAX_LINE, readServerMessage } from '../../src/cli/server-protocol.js';

describe("code4py server's protocol", () => {
  it('names the variables that differ, not their values, leaving out the shell’s and npm’s own bookkeeping', () => {
    const server = { PATH: '/usr/bin', HOME: '/home/a', GIT_DIR: '/x', PWD: '/a', SHLVL: '1', _: '/usr/bin/npx', INIT_CWD: '/a', npm_config_call: 'server' };
    const client = { PATH: '/opt/bin:/usr/bin', HOME: '/home/a', PIP_INDEX_URL: 'https://user:secret@example.test/simple', PWD: '/b', SHLVL: '2', _: '/usr/bin/env', INIT_CWD: '/b', npm_lifecycle_event: 'x' };
    const differ = differingVariables(client, server);
    expect(differ).toEqual(['GIT_DIR', 'PATH', 'PIP_INDEX_URL']);
    expect(differ.join(' ')).not.toContain('secret');
    expect(differingVariables(server, { ...server, PWD: '/elsewhere', OLDPWD: '/a' })).toEqual([]);
  });

  it("reads the server's messages and nothing else", () => {
    expect(readServerMessage('{"kind":"stdout","data":"PASSED\\n"}')).toEqual({ kind: 'stdout', data: 'PASSED\n' });
    expect(readServerMessage('{"kind":"exit","status":1}')).toEqual({ kind: 'exit', status: 1 });
    expect(readServerMessage('{"kind":"declined","reason":"it is stopping"}')).toEqual({ kind: 'declined', reason: 'it is stopping' });
    for (const line of ['not json', 'null', '[]', '{"kind":"exit","status":-1}', '{"kind":"exit","status":"0"}', '{"kind":"stdout","data":3}', '{"kind":"shell","data":"rm -rf /"}', '{"kind":"status","pid":1}']) {
      expect(readServerMessage(line), line).toBeNull();
    }
  });

  it('splits a stream into lines across chunks, and refuses a line longer than the limit', () => {
    const lines: string[] = [];
    const read = lineReader((line) => lines.push(line));
    expect(read(Buffer.from('{"a":1}\n{"b"'))).toBe(true);
    expect(read(Buffer.from(':2}\n\n'))).toBe(true);
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
    expect(read(Buffer.alloc(MAX_LINE + 1, 'x'))).toBe(false);
  });
});
