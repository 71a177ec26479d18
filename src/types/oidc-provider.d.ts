// The slice of oidc-provider 9's API that the Google-like sandbox and `idp serve` use; the package ships no typings
// and @types/oidc-provider would be a new dependency for a handful of calls.

declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface Interaction {
    uid: string;
    returnTo: string;
    exp: number;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId: string; uid: string };
    grantId?: string;
  }

  export class Grant {
    constructor(init: { accountId: string; clientId: string });
    readonly jti: string;
    readonly accountId: string;
    static find(id: string): Promise<Grant | undefined>;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    client_name?: string;
    [key: string]: unknown;
  }

  export interface Client {
    clientId: string;
    clientName?: string;
  }

  export interface OidcContext {
    oidc: { result?: Record<string, unknown> };
  }

  /** The koa context a `provider.use` middleware sees (the parts idp reads). */
  export interface MiddlewareContext {
    method: string;
    path: string;
    status: number;
    get(header: string): string;
    set(header: string, value: string): void;
    remove(header: string): void;
    response: { get(header: string): string };
    oidc?: { route?: string; client?: Client };
  }

  /** The errors the provider renders as OAuth error responses (400 `invalid_grant` for this one). */
  export const errors: { InvalidGrant: new (detail: string) => Error };

  export class Check {
    constructor(reason: string, description: string, check: (ctx: OidcContext) => boolean | Promise<boolean>);
    static readonly REQUEST_PROMPT: true;
    static readonly NO_NEED_TO_PROMPT: false;
  }

  export interface Prompt {
    name: string;
    checks: Check[] & { add(check: Check, index?: number): void };
  }

  export type Policy = Prompt[] & { get(name: string): Prompt | undefined };

  export const interactionPolicy: { base(): Policy; Check: typeof Check };

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    Grant: typeof Grant;
    Client: { find(id: string): Promise<Client | undefined> };
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: MiddlewareContext, next: () => Promise<void>) => Promise<void>): void;
    on(event: string, listener: (...args: unknown[]) => void): void;
    proxy: boolean;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  export default Provider;
}

// oidc-provider's own in-memory storage, which is what a throwaway sandbox wants; passing it explicitly
// (rather than relying on the default) keeps oidc-provider from warning that it is not for production.
declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  export function createMemoryAdapter(clockTolerance?: number): (model: string) => unknown;
}
