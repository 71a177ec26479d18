// The `options` stage measures idp's work, not the person's: a person who takes 10 s to choose does not make the
// stage take 10 s; the wait is said in the stage's detail instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginEngine } from '../../src/cli/context.js';
import type { StageEvent } from '../../src/core/types.js';
import type { FlowState } from '../../src/flow/types.js';
import { sharedDemoOrg } from '../helpers/login.js';

const org = sharedDemoOrg();

test('a person who chooses after 10 s: the options stage is not 10 s long, and its detail says "chose after 10.0 s"', async () => {
  const stages: StageEvent[] = [];
  const engine = await loginEngine({ store: org.store, upstreams: org.upstreams, onEvent: (e) => stages.push(e) });
  const started = await engine.start('thrift');
  assert.equal(started.status === 'active' && started.waiting, 'choose');
  // The person looks at the choice for 10 s: the flow has waited since then.
  const row = (await org.store.flows.get(started.flow))!;
  const state = JSON.parse(row.state) as FlowState;
  await org.store.flows.save(started.flow, 'active', { ...state, waitingSince: state.waitingSince - 10_000 });
  await engine.submit(started.flow, { choose: 'password' });
  const options = stages.find((s) => s.stage === 'options')!;
  assert.match(options.detail, /^step 1: password \(offered password \| google \| github; chose after 10\.\d s\)$/);
  assert.ok(options.ms < 10_000, `the stage took ${options.ms} ms: the person's 10 s are not idp's`);
});

test('a program that answers at once: no "chose after" in the detail', async () => {
  const stages: StageEvent[] = [];
  const engine = await loginEngine({ store: org.store, upstreams: org.upstreams, onEvent: (e) => stages.push(e) });
  const started = await engine.start('thrift');
  // Answered the instant it was asked (set so, not timed: a loaded machine must not make this a person).
  const state = JSON.parse((await org.store.flows.get(started.flow))!.state) as FlowState;
  await org.store.flows.save(started.flow, 'active', { ...state, waitingSince: Date.now() + 60_000 });
  await engine.submit(started.flow, { choose: 'password' });
  assert.equal(
    stages.find((s) => s.stage === 'options')!.detail,
    'step 1: password (offered password | google | github)',
  );
});
