// The prompt-username JIT scheme when the chosen username is taken, before the check or between the check and the
// insert (two sign-ins choosing one name at once): the flow stays at its jit-prompt with a USER_EXISTS retry and asks
// again; it never fails with an internal error, and nothing is written for the losing answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answerer } from '../../src/cli/drivers/drive.js';
import { drive } from '../../src/cli/drivers/drive.js';
import { headlessAnswerer } from '../../src/cli/drivers/headless.js';
import { loginEngine } from '../../src/cli/context.js';
import type { FlowView } from '../../src/flow/types.js';
import { expectDone, loginWorld, type LoginWorld } from '../helpers/login.js';

type JitView = Extract<FlowView, { waiting: 'jit-prompt' }>;

/** A headless GitHub login as `persona` whose JIT answers come from `choose` (given each prompt it is shown). */
async function promptLogin(
  w: LoginWorld,
  persona: string,
  choose: (view: JitView) => Promise<string>,
): Promise<FlowView> {
  const engine = await loginEngine({ store: w.store, upstreams: w.upstreams });
  const headless = headlessAnswerer({
    connection: 'github',
    persona,
    consent: 'approve',
    personas: () => [persona],
    connectionByName: async (n) => w.store.connections.get(n),
  });
  const answerer: Answerer = {
    ...headless,
    jitPrompt: async (view) => ({ consent: true, username: await choose(view), password: 'long enough 1' }),
  };
  return drive(engine, answerer, { app: 'thrift', timeoutMs: 30_000, signal: new AbortController().signal });
}

test('a taken username keeps the flow at its jit-prompt with a USER_EXISTS retry and a fresh proposal; the next name is provisioned', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { scheme: 'prompt-username-password-consent' });
  const prompts: JitView[] = [];
  const answers = [
    async (v: JitView) => {
      // The proposed name is taken while the person reads the prompt.
      await w.store.users.insert({ username: v.proposed.username, email: null, emailVerified: false, source: 'local' });
      return v.proposed.username;
    },
    () => 'alice',
    () => 'octo-second',
  ];
  const view = await promptLogin(w, 'octocat', async (v) => answers[prompts.push(v) - 1]!(v));
  assert.equal(expectDone(view).user?.username, 'octo-second');
  assert.deepEqual(
    prompts.map((p) => p.retry?.message),
    [undefined, "username 'octocat' is taken", "username 'alice' is taken"],
  );
  assert.deepEqual(prompts[1]!.retry, {
    code: 'USER_EXISTS',
    message: "username 'octocat' is taken",
    hint: 'choose another username',
  });
  assert.notEqual(prompts[1]!.proposed.username, 'octocat', 'a free username is proposed instead of the taken one');
  assert.equal((await w.user('alice'))?.source, 'local', 'alice untouched');
});

test('two sign-ins choosing one username at once: one gets it, the other is asked again (USER_EXISTS), never INTERNAL', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { scheme: 'prompt-username-password-consent' });
  // Both flows answer only once both have been asked, so both pass the "is it free" check before either inserts.
  let arrived = 0;
  let release!: () => void;
  const bothAsked = new Promise<void>((resolve) => (release = resolve));
  const retries: JitView[] = [];
  const choose =
    (second: string) =>
    async (view: JitView): Promise<string> => {
      if (view.retry) {
        retries.push(view);
        return second;
      }
      if (++arrived === 2) release();
      await bothAsked;
      return 'raced';
    };
  const [a, b] = await Promise.all([
    promptLogin(w, 'octocat', choose('octo-other')),
    promptLogin(w, 'hubber', choose('hub-other')),
  ]);
  const names = [expectDone(a).user?.username, expectDone(b).user?.username].sort();
  assert.equal(retries.length, 1, 'exactly one flow lost the race and was asked again');
  assert.deepEqual(retries[0]!.retry, {
    code: 'USER_EXISTS',
    message: "username 'raced' is taken",
    hint: 'choose another username',
  });
  assert.ok(names.includes('raced'));
  assert.ok(names.includes('octo-other') || names.includes('hub-other'));
  assert.equal(await w.store.associations.countForConnection('github'), 2);
});
