import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withoutHostCommandSteps } from '../src/control-ui/host-command-steps.js';

// The Control UI's sign-in failure steps as its bundle writes them: keys, and steps naming host commands.
type Step = { key: string; commands?: string[] };

const render = (steps: Step[]) =>
  `stepKeys:[${steps.map((step) => (step.commands === undefined ? `\`${step.key}\`` : `{key:\`${step.key}\`,commands:[${step.commands.map((c) => `\`${c}\``).join(',')}]}`)).join(',')}]`;
/** The list a rewritten literal evaluates to. */
const evaluate = (source: string): unknown => new Function(`return {${source}}.stepKeys`)();

const word = fc.stringMatching(/^[A-Za-z]{1,12}$/);
const command = fc.stringMatching(/^[a-z][a-z0-9 .:/=-]{0,40}$/);
const step: fc.Arbitrary<Step> = fc.record(
  {
    key: fc.tuple(word, word).map(([kind, name]) => `login.failure.${kind}.${name}`),
    commands: fc.array(command, { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: ['key'] },
);

describe('sign-in failure steps without host commands', () => {
  it('keeps exactly the steps that name no command, in order, as valid code', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 6 }), (steps) => {
        const source = render(steps);
        const rewritten = withoutHostCommandSteps(source) ?? source;
        expect(evaluate(rewritten)).toEqual(steps.filter((s) => s.commands === undefined).map((s) => s.key));
        expect(rewritten.includes('commands:')).toBe(false);
      }),
    );
  });

  it("rewrites the bundle's own wording and leaves other scripts alone", () => {
    const bundle =
      'c===`failed`?{kind:`auth-failed`,stepKeys:l?[`login.failure.authRequired.stepPassword`,`login.failure.authRequired.stepConnect`]:[{key:`login.failure.authFailed.stepDashboard`,commands:[`openclaw dashboard --no-open`,`openclaw gateway auth-token --show`]},`login.failure.authFailed.stepReplace`],stepParams:{host:o}}:{kind:`network`}';
    expect(withoutHostCommandSteps(bundle)).toBe(
      'c===`failed`?{kind:`auth-failed`,stepKeys:l?[`login.failure.authRequired.stepPassword`,`login.failure.authRequired.stepConnect`]:[`login.failure.authFailed.stepReplace`],stepParams:{host:o}}:{kind:`network`}',
    );
    expect(withoutHostCommandSteps('console.log("app");')).toBeUndefined();
    // Commands elsewhere (not a sign-in failure step) stay.
    expect(withoutHostCommandSteps('x={key:`devices.pair.step`,commands:[`openclaw devices list`]};y=`login.failure.a.b`')).toBeUndefined();
  });
});
