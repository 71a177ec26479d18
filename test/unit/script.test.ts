// Conditional-authentication scripts in QuickJS: the documented Asgardeo script verbatim, limits, isolation, errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScriptStepInfo } from '../../src/ports.js';
import { compileCheck, runConditionalScript } from '../../src/script/index.js';
import { IdpError } from '../../src/core/errors.js';
import { SKIP_MFA_SCRIPT } from '../helpers/scripts.js';

// Asgardeo's documented script, verbatim, as the project ships it for `idp app script set`.

/** A runStep that records its calls and answers step 1 with the given idp, later steps as LOCAL. */
function steps(firstIdp: string): { calls: number[]; runStep: (n: number) => ScriptStepInfo } {
  const calls: number[] = [];
  return {
    calls,
    runStep: (n) => {
      calls.push(n);
      return n === 1
        ? { idp: firstIdp, subject: { username: 'alice', localClaims: { email: 'alice@example.test' } } }
        : { idp: 'LOCAL' };
    },
  };
}

function isScriptError(pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof IdpError, `not an IdpError: ${String(e)}`);
    assert.equal(e.code, 'SCRIPT_ERROR');
    assert.match(e.message, pattern);
    assert.ok(e.hint);
    return true;
  };
}

const run = (source: string, extra: { cpuMs?: number; memoryBytes?: number } = {}) =>
  runConditionalScript(source, { request: {}, runStep: steps('LOCAL').runStep, ...extra });

test('the documented skip-MFA script runs step 2 only after a LOCAL step 1', async () => {
  const local = steps('LOCAL');
  const decision = await runConditionalScript(SKIP_MFA_SCRIPT, { request: {}, runStep: local.runStep });
  assert.deepEqual(decision, { steps: [1, 2], logs: [] });
  assert.deepEqual(local.calls, [1, 2]);

  const federated = steps('github');
  assert.deepEqual(await runConditionalScript(SKIP_MFA_SCRIPT, { request: {}, runStep: federated.runStep }), {
    steps: [1],
    logs: [],
  });
  assert.deepEqual(federated.calls, [1]);

  assert.deepEqual(await compileCheck(SKIP_MFA_SCRIPT), { ok: true });
});

test('context exposes request and step subjects; options and callbacks are told apart; Log is collected', async () => {
  const decision = await runConditionalScript(
    `var onLoginRequest = function (context) {
      Log.info('client', context.request.clientId);
      executeStep(1, { authenticationOptions: [{ authenticator: 'BasicAuthenticator' }] });
      executeStep(2, { authenticationOptions: [] }, {
        onSuccess: function (ctx) {
          Log.debug(ctx.steps[1].subject.username, ctx.steps[1].subject.localClaims.email, ctx.steps[2].idp);
          Log.error({ same: ctx === context });
        }
      });
    };`,
    { request: { clientId: 'thrift' }, runStep: steps('google').runStep },
  );
  assert.deepEqual(decision.steps, [1, 2]);
  assert.deepEqual(decision.logs, [
    '[info] client thrift',
    '[debug] alice alice@example.test LOCAL',
    '[error] {"same":true}',
  ]);
});

test('fail() surfaces errorCode and errorMessage and stops further steps', async () => {
  const calls = steps('github');
  const decision = await runConditionalScript(
    `var onLoginRequest = function (context) {
      executeStep(1, { onSuccess: function (context) {
        if (context.steps[1].idp != 'LOCAL') {
          fail({ errorCode: 'access_denied', errorMessage: 'federated users may not use this app' });
        }
        executeStep(2);
      } });
    };`,
    { request: {}, runStep: calls.runStep },
  );
  assert.deepEqual(decision, {
    steps: [1],
    logs: [],
    failed: { errorCode: 'access_denied', errorMessage: 'federated users may not use this app' },
  });
  assert.deepEqual(calls.calls, [1]);
  assert.deepEqual((await run('var onLoginRequest = function () { fail(); };')).failed, {});
});

test('an endless loop is stopped at the deadline, even when the script catches the interruption', async () => {
  await assert.rejects(
    run('var onLoginRequest = function () {\n  while (true) {}\n};'),
    isScriptError(/longer than its 100 ms budget/),
  );
  await assert.rejects(run('while (true) {}'), isScriptError(/budget/));
  await assert.rejects(
    run(`var onLoginRequest = function () {
      try { executeStep(1, { onSuccess: function () { for (;;) {} } }); } catch (e) {}
    };`),
    isScriptError(/budget/),
  );
});

test('unbounded allocation is stopped by the memory limit', async () => {
  await assert.rejects(
    run(
      'var onLoginRequest = function () {\n  var a = [];\n  while (true) a.push({ n: a.length, s: "v" + a.length });\n};',
      {
        memoryBytes: 1024 * 1024,
        cpuMs: 60_000,
      },
    ),
    isScriptError(/out of memory/),
  );
});

test('deep recursion is stopped by the stack limit', async () => {
  await assert.rejects(
    run('function f() { return f() + 1; }\nvar onLoginRequest = function () { f(); };'),
    isScriptError(/stack overflow/),
  );
});

test('no require, process, fs or network inside the sandbox', async () => {
  const { logs } = await run(
    `var onLoginRequest = function () {
      Log.info(typeof require, typeof process, typeof fetch, typeof XMLHttpRequest, typeof std, typeof os, typeof setTimeout, typeof module);
    };`,
  );
  assert.deepEqual(logs, ['[info] undefined undefined undefined undefined undefined undefined undefined undefined']);
  await assert.rejects(
    run("var onLoginRequest = function () {\n  var fs = require('fs');\n};"),
    isScriptError(/line 2: ReferenceError: 'require' is not defined/),
  );
});

test('syntax errors report their line, in compileCheck and at run time', async () => {
  const broken = 'var onLoginRequest = function (context) {\n  executeStep(1);\n  if (x == ) {}\n};';
  const check = await compileCheck(broken);
  assert.equal(check.ok, false);
  assert.equal(check.ok === false && check.line, 3);
  assert.match(check.ok === false ? check.message : '', /SyntaxError/);
  await assert.rejects(run(broken), isScriptError(/at line 3: SyntaxError/));
});

test('a thrown exception, a missing onLoginRequest and top-level executeStep are script errors', async () => {
  await assert.rejects(
    run('var onLoginRequest = function (context) {\n\n  context.steps[7].idp;\n};'),
    isScriptError(/line 3: TypeError/),
  );
  await assert.rejects(
    run('var onLoginRequest = function () {\n  throw "nope";\n};'),
    isScriptError(/uncaught exception: nope/),
  );
  await assert.rejects(run('var onLogin = function () {};'), isScriptError(/does not define onLoginRequest/));
  assert.deepEqual(await compileCheck('function notIt() {}'), {
    ok: false,
    message: 'the script does not define onLoginRequest (var onLoginRequest = function (context) { ... })',
    line: null,
  });
  await assert.rejects(
    run('executeStep(1);\nvar onLoginRequest = function () {};'),
    isScriptError(/only be called inside onLoginRequest/),
  );
  await assert.rejects(run('var onLoginRequest = function () { executeStep("1"); };'), isScriptError(/step number/));
});

test('a failure inside runStep reaches the caller unchanged, even if the script catches it', async () => {
  const refusal = new IdpError('BAD_CREDENTIALS', 'wrong password for alice');
  await assert.rejects(
    runConditionalScript(
      'var onLoginRequest = function () {\n  try { executeStep(1); } catch (e) {}\n  executeStep(2);\n};',
      {
        request: {},
        runStep: () => {
          throw refusal;
        },
      },
    ),
    (e: unknown) => e === refusal,
  );
});

test('the host is unaffected: a normal run works after stopped ones', async () => {
  await assert.rejects(run('while (true) {}'), isScriptError(/budget/));
  await assert.rejects(
    run('var a = []; for (;;) a.push({ s: "x" + a.length });', { memoryBytes: 1024 * 1024, cpuMs: 60_000 }),
    isScriptError(/memory/),
  );
  await assert.rejects(
    run('var onLoginRequest = function () { globalThis.leak = 1; throw new Error("x"); };'),
    isScriptError(/Error: x/),
  );
  const decision = await run(`var onLoginRequest = function () { Log.info(typeof leak); executeStep(1); };`);
  assert.deepEqual(decision, { steps: [1], logs: ['[info] undefined'] });
  assert.deepEqual(
    (await runConditionalScript(SKIP_MFA_SCRIPT, { request: {}, runStep: steps('LOCAL').runStep })).steps,
    [1, 2],
  );
});
