// Swagger UI over the gateway's own OpenAPI document. "Authorize" uses the
// OAuth2 password flow against this gateway's /oauth/token with the
// browser's client, prefilled; the password field takes the WIRE form of the
// password (see the document's description), not the plain one.
window.addEventListener('DOMContentLoaded', () => {
  const ui = window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    // No calls to outside validators: everything stays on this server.
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
  ui.initOAuth({
    clientId: 'bookstore_frontend',
    clientSecret: 'bookstore_secret',
    scopes: ['BROWSER'],
  });
  window.ui = ui;
});
