// Completes the build after vite: copies the API browser (our page, styles
// and initializer from web/api, and Swagger UI's prebuilt bundle from the
// pinned swagger-ui-dist package; no CDN, the gateway embeds and serves it
// all) and writes the licences of the packages bundled into the storefront.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(web, '..', 'gateway', 'internal', 'web', 'dist', 'api');
const dist = join(web, 'node_modules', 'swagger-ui-dist');

mkdirSync(out, { recursive: true });
for (const f of ['index.html', 'init.js', 'api.css']) {
  copyFileSync(join(web, 'api', f), join(out, f));
}
copyFileSync(join(web, 'src', 'favicon.svg'), join(out, 'favicon.svg'));
// The source maps are not shipped, so their references go too.
for (const f of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
  const text = readFileSync(join(dist, f), 'utf8').replace(/\n?(\/\/# sourceMappingURL=\S+|\/\*# sourceMappingURL=\S+ ?\*\/)\s*$/, '\n');
  writeFileSync(join(out, f), text);
}
copyFileSync(join(dist, 'LICENSE'), join(out, 'swagger-ui-LICENSE.txt'));
copyFileSync(join(dist, 'NOTICE'), join(out, 'swagger-ui-NOTICE.txt'));

// bcryptjs (BSD-3-Clause) asks for its notice in binary redistributions.
const notices = ['bcryptjs', 'spark-md5'].map((name) => {
  const dir = join(web, 'node_modules', name);
  const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const text = file ? readFileSync(join(dir, file), 'utf8').trim() : `License: ${license}`;
  return `${name} ${version} (${license})\n\n${text}\n`;
});
writeFileSync(join(out, '..', 'static', 'licenses.txt'), `Packages bundled into the storefront's script:\n\n${notices.join('\n----\n\n')}`);
console.log(`API browser and licences written to ${join(out, '..')}`);
