// The conditional-authentication scripts idp ships (`idp app script templates`, `app script set --template`): part
// of the bundle, so they work wherever idp is installed, not only in a checkout.

export interface ScriptTemplate {
  name: string;
  /** One line, for the list. */
  description: string;
  source: string;
}

export const SCRIPT_TEMPLATES: readonly ScriptTemplate[] = [
  {
    name: 'skip-mfa-for-federated',
    description:
      "run the MFA step 2 only after a local sign-in in step 1 (context.steps[1].idp == 'LOCAL'); federated sign-ins skip it",
    source: `// Asgardeo's documented conditional-authentication script: run the MFA step (2) only for users who signed in
// with a local option in step 1; federated sign-ins (GitHub, Google, ...) skip it.
var localAuthenticator = 'LOCAL';
var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var step = context.steps[1];
            if (step.idp == localAuthenticator) {
                executeStep(2); // MFA Step
            }
        }
    });
};
`,
  },
];
