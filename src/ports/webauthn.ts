// The JSON shapes @simplewebauthn/browser takes and gives, as types only (the package itself is the webauthn
// adapter's): flow views, pages and answers carry them.
export type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
