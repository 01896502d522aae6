import { describe, expect, it } from 'vitest';
import { defaultValidationConfig } from '../../src/config/schema.js';
import { runChecks, type EnvironmentPort, type Linter } from '../../src/validate/pipeline.js';
import { SYSTEM_RUNTIME } from '../../src/validate/runtime.js';
import { writeWorkspace } from '../../src/validate/workspace.js';
import { useValidation, watchedSandbox } from '../helpers/validation-ports.js';

const { sandbox } = useValidation();

describe('the checks of one tree', () => {
  it('lets go of the environment only once the tests have ended, when lint fails beside them', async () => {
    const events: string[] = [];
    const watched = watchedSandbox(sandbox(), (request, run) => run(request).finally(() => events.push('sandbox run ended')));
    const environment: EnvironmentPort = {
      prepare: async () => ({ stage: null, runtime: SYSTEM_RUNTIME, dispose: async () => void events.push('environment disposed') }),
    };
    const brokenRuff: Linter = { check: () => Promise.reject(new Error('Ruff broke')), lint: () => Promise.reject(new Error('Ruff broke')) };
    const workspace = await writeWorkspace([{ path: 'test_slow.py', content: Buffer.from('import time\n\n\ndef test_slow():\n    time.sleep(1)\n') }]);
    try {
      const checks = runChecks(workspace, { config: defaultValidationConfig(), sandbox: watched, linter: brokenRuff, environment }, { coverage: 'off' }, () => undefined);
      await expect(checks).rejects.toThrow('Ruff broke');
      expect(events).toEqual(['sandbox run ended', 'environment disposed']);
    } finally {
      await workspace.dispose();
    }
  });
});
