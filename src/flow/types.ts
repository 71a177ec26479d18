// The flow's public shapes (FlowView: what the flow waits for; FlowInput: an answer), its persisted state, and the
// ports the engine is built from.
import type { ErrorCode } from '../core/errors.js';
import type { Hint } from '../core/fixes.js';
import type { MappedProfile } from '../core/claims.js';
import type { JitDecisionKind, JitScheme, SignInStep, StageEvent } from '../core/types.js';
import type {
  AuthRequest,
  Mailer,
  OtpVerifier,
  PasskeyVerifier,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  Random,
  ScriptRunner,
  Store,
  TokenSigner,
  TotpVerifier,
  Upstreams,
} from '../ports.js';

export interface FlowError {
  code: ErrorCode;
  message: string;
  hint: Hint | null;
}

export interface JitOutcome {
  decision: JitDecisionKind;
  reason: string;
  /** The local user created, linked or reused; null for pass-through and deny. */
  user: { id: string; username: string } | null;
}

export interface FlowResult {
  app: string;
  user: { id: string; username: string } | null;
  passThrough: boolean;
  jit: JitOutcome | null;
  amr: string[];
  acr: string;
  /** Null when the driver's own provider issues the app's tokens (EngineDeps.signIdTokens false). */
  idToken: string | null;
  claims: Record<string, unknown>;
  redirectUri: string | null;
}

interface ViewBase {
  flow: string;
  app: string;
  step: number;
}

export type FlowView =
  | (ViewBase & {
      status: 'active';
      waiting: 'choose';
      options: string[];
      /** Set when the option chosen was refused (a factor the account cannot enrol here): choose another. */
      retry?: FlowError;
    })
  | (ViewBase & { status: 'active'; waiting: 'credentials'; fields: ['username', 'password']; retry?: FlowError })
  | (ViewBase & {
      status: 'active';
      waiting: 'redirect';
      url: string;
      connection: string;
      provider: string;
      sandbox: boolean;
    })
  | (ViewBase & {
      status: 'active';
      waiting: 'jit-prompt';
      connection: string;
      scheme: JitScheme;
      proposed: { username: string; email: string | null; name: string | null };
      fields: string[];
      retry?: FlowError;
    })
  | (ViewBase & {
      status: 'active';
      waiting: 'mfa';
      method: 'totp' | 'email-otp';
      hint: string;
      enrol?: { secret: string; uri: string };
      retry?: FlowError;
    })
  | (ViewBase & {
      status: 'active';
      waiting: 'passkey';
      /** 'authenticate': sign in with a passkey; 'enrol': this step needs a passkey the user lacks (registration). */
      mode: 'authenticate' | 'enrol';
      /** Options JSON for @simplewebauthn/browser: startAuthentication({ optionsJSON }) or startRegistration(...). */
      options: PublicKeyCredentialRequestOptionsJSON | PublicKeyCredentialCreationOptionsJSON;
      /** The step's other options, for a "use another way" fallback (choose one with { choose } as usual). */
      alternatives: string[];
      retry?: FlowError;
    })
  | (ViewBase & { status: 'done'; result: FlowResult })
  | (ViewBase & { status: 'failed'; error: FlowError; jit: JitOutcome | null });

export type FlowInput =
  | { choose: string; redirectUri?: string }
  | { credentials: { username: string; password: string } }
  | { callback: string }
  | { jitAnswer: { consent: boolean; username?: string; password?: string } }
  | { otp: string }
  | { passkey: PasskeyAnswer };

/** A passkey step's answer: the credential as the browser API returned it, and the origin of the page that asked. */
export interface PasskeyAnswer {
  /** AuthenticationResponseJSON or RegistrationResponseJSON, as posted (checked by the verifier, not trusted). */
  response: unknown;
  /** The page's origin, as the driver that served it knows it; checked exactly against the response. */
  origin: string;
  /** A name for a passkey enrolled in this step. */
  name?: string;
}

/** Who the steps so far have identified. */
export type Identity =
  | { kind: 'local'; userId: string; username: string }
  | { kind: 'pass-through'; connection: string; subject: string; profile: MappedProfile };

export interface CompletedStep {
  step: number;
  option: string;
  /** 'LOCAL' for local options, else the connection name: what a script sees as context.steps[n].idp */
  idp: string;
  remoteClaims?: Record<string, unknown>;
}

export type Waiting =
  | { kind: 'choose' }
  | { kind: 'credentials' }
  | { kind: 'redirect'; connection: string; auth: AuthRequest; provider: string; sandbox: boolean }
  | {
      kind: 'jit-prompt';
      connection: string;
      subject: string;
      claims: Record<string, unknown>;
      proposedUsername: string;
    }
  | { kind: 'mfa'; method: 'totp' | 'email-otp'; factorId?: string; enrolSecret?: string; attempts: number }
  | {
      kind: 'passkey';
      mode: 'authenticate' | 'enrol';
      /** What the page is given. Its challenge is the only one open: any answer spends it, a retry gets a fresh one. */
      options: PublicKeyCredentialRequestOptionsJSON | PublicKeyCredentialCreationOptionsJSON;
      /** When the challenge stops being accepted (ISO time). */
      expiresAt: string;
      /** Wrong answers in this step (the MFA cap). */
      attempts: number;
    }
  | { kind: 'none' };

export interface FlowState {
  app: string;
  redirectUri: string | null;
  steps: SignInStep[];
  step: number;
  seq: number;
  waiting: Waiting;
  waitingSince: number;
  identity: Identity | null;
  completed: CompletedStep[];
  amr: string[];
  jit: JitOutcome | null;
  authTime: number | null;
  passwordFailures: number;
  /** The option chosen in each step so far (what `flows list` shows; absent in flows stored before it was kept). */
  chosen?: string[];
  /** The error code a failed flow ended with. */
  error?: ErrorCode;
  /** The step My Account added to ask for a factor the user holds (steps/next.ts), once added. */
  factorStep?: number;
}

export type StageListener = (event: StageEvent) => void;

/** What the engine works with; the composition root (src/cli/context.ts) passes the adapters in. */
export interface EngineDeps {
  store: Store;
  upstreams: Upstreams;
  signer: TokenSigner;
  totp: TotpVerifier;
  passkeys: PasskeyVerifier;
  emailOtps: OtpVerifier;
  scripts: ScriptRunner;
  random: Random;
  /** The optional SMTP relay for emailed codes (the org's smtp setting). */
  mailer?: Mailer;
  /** False when the driver's own OpenID provider issues the app's tokens (`idp serve`): no ID token is signed here. */
  signIdTokens?: boolean;
  onEvent?: StageListener;
}
