import { describe, expect, it } from 'vitest';
import { explainPipOutput, trimPipOutput } from '../../../src/validate/environment/pip-errors.js';

// pip 23's own words (python3-pip-whl), as an install run sees them.
const NOT_FOUND = `Looking in indexes: http://127.0.0.1:8765/simple/
ERROR: Could not find a version that satisfies the requirement nosuch-pkg (from versions: none)
ERROR: No matching distribution found for nosuch-pkg
`;
const NO_MATCHING_VERSION = `ERROR: Could not find a version that satisfies the requirement greet>=5 (from versions: 1.2.0)
ERROR: No matching distribution found for greet>=5
`;
const CONFLICT = `  Downloading http://127.0.0.1:8765/files/greet-1.2.0-py3-none-any.whl (1.1 kB)
ERROR: Cannot install greet<1 and greet==1.2.0 because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested greet==1.2.0
    The user requested greet<1

To fix this you could try to:
1. loosen the range of package versions you've specified
2. remove package versions to allow pip attempt to solve the dependency conflict

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts
`;
const REFUSED = `WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'ProxyError('Cannot connect to proxy.', OSError('Tunnel connection failed: 403 Forbidden'))': /simple/requests/
ERROR: Could not find a version that satisfies the requirement requests (from versions: none)
`;

describe('pip failures', () => {
  it('names a requirement the index does not have, and says wheels only may be why', () => {
    expect(explainPipOutput(NOT_FOUND, true)).toEqual([{ name: 'nosuch-pkg', reason: expect.stringMatching(/^it is not on the index, or it has no wheel for this platform and Python \(source distributions are installed only with environment.allow_sdist: true\)$/) }]);
    expect(explainPipOutput(NOT_FOUND, false)[0]?.reason).toBe('it is not on the index');
  });

  it('says the index could not be reached when pip gave up retrying, instead of calling the requirement missing', () => {
    const output = [
      "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'ProxyError('Cannot connect to proxy.', NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))': /simple/requests/",
      'ERROR: Could not find a version that satisfies the requirement requests==2.31 (from versions: none)',
      'ERROR: No matching distribution found for requests==2.31',
    ].join('\n');
    const [failure] = explainPipOutput(output, true);
    expect(failure?.name).toBe('requests');
    expect(failure?.reason).toMatch(/^the package index could not be reached \('ProxyError\('Cannot connect to proxy\.'.*\): check CODE4PY_PIP_INDEX_URL and that this machine reaches it$/);
  });

  it('says which versions the index has when none matches', () => {
    expect(explainPipOutput(NO_MATCHING_VERSION, true)).toEqual([{ name: 'greet', reason: 'no release matches the version asked for (the index has 1.2.0)' }]);
  });

  it('names the requirements of a version conflict, with what causes it', () => {
    const failures = explainPipOutput(CONFLICT, true);
    expect(failures.map((f) => f.name)).toEqual(['greet']);
    expect(failures[0]?.reason).toBe('its versions conflict: The user requested greet==1.2.0; The user requested greet<1');
  });

  it('reads a failure that names no requirement from pip\'s last error lines', () => {
    expect(explainPipOutput('Collecting x\nERROR: HTTP error 500 while getting http://i/simple/x/\nERROR: Could not install packages due to an OSError\n', true)).toEqual([
      { name: null, reason: 'HTTP error 500 while getting http://i/simple/x/ Could not install packages due to an OSError' },
    ]);
  });

  it('still names the requirement when the proxy refused the host', () => {
    expect(explainPipOutput(REFUSED, true).map((f) => f.name)).toEqual(['requests']);
  });

  it('trims pip output to its errors and its end', () => {
    const text = trimPipOutput(`Looking in indexes: x\nCollecting greet\n  Downloading greet.whl\n${NOT_FOUND}`);
    expect(text).not.toContain('Collecting');
    expect(text).toContain('No matching distribution found for nosuch-pkg');
    expect(trimPipOutput('x'.repeat(10_000)).length).toBeLessThanOrEqual(4001);
  });
});
