// How the CLI prints an app's SDK configuration (app/apps.ts sdkConfig): an @asgardeo/auth-spa config object for a spa,
// an openid-client snippet for a web app. `idp app show` and `idp serve` print the same.
import type { SdkConfig } from '../app/apps.js';

export function sdkText(sdk: SdkConfig): string {
  if (sdk.package === '@asgardeo/auth-spa')
    return [
      `  ${sdk.package} (AsgardeoSPAClient.getInstance().initialize(config)), once idp serve runs:`,
      ...JSON.stringify(sdk.config, null, 2)
        .split('\n')
        .map((line) => `    ${line}`),
    ].join('\n');
  const { discovery, client_id, redirect_uri } = sdk.config;
  return [
    '  openid-client, once idp serve runs:',
    "    import * as client from 'openid-client';",
    // idp serve registers a web app for client_secret_basic, which openid-client uses only when told to.
    `    const config = await client.discovery(new URL('${discovery}'), '${client_id}', undefined, client.ClientSecretBasic(process.env.CLIENT_SECRET));`,
    `    // redirect_uri: ${redirect_uri ?? 'register one with --redirect-uri'}`,
  ].join('\n');
}
