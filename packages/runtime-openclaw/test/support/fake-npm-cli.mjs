// A stand-in for npm-cli.js: `install --prefix <dir> … <name@version>…` creates the named packages (a
// Node package whose binary is this Node, an `openclaw` that prints its version) after a pause, and
// logs when each run starts and ends to <dir>/fake-npm.log.
import { appendFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const prefix = args[args.indexOf('--prefix') + 1];
const log = join(prefix, 'fake-npm.log');
appendFileSync(log, `start ${process.pid}\n`);
await new Promise((resolve) => setTimeout(resolve, 300));
for (const spec of args.filter((arg) => /^[a-z][\w-]*@/.test(arg))) {
  const [name, version] = spec.split('@');
  const dir = join(prefix, 'node_modules', name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version }));
  if (name.startsWith('node-') && !existsSync(join(dir, 'bin', 'node'))) symlinkSync(process.execPath, join(dir, 'bin', 'node'));
  if (name === 'openclaw') writeFileSync(join(dir, 'openclaw.mjs'), `console.log(${JSON.stringify(version)});\n`);
}
appendFileSync(log, `end ${process.pid}\n`);
