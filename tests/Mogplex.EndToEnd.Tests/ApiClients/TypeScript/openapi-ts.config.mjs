// @hey-api/openapi-ts settings for the API client tests (ApiClients/TypeScriptClientTests.cs): the
// document the server served, saved beside this file; the fetch client; ESM imports with the .js
// extension Node needs.
export default {
  input: './openapi.json',
  output: { path: './gen', module: { extension: '.js' } },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
  logs: { file: false },
};
