import { applyColourPolicy } from './output/colour-policy.js';

// Before citty, consola and the commands load: they read the colour settings once, when loaded.
applyColourPolicy();
const { runMain } = await import('citty');
const { mainCommand, subCommands } = await import('./main-command.js');
const { findUnknownCommand, unknownCommandText } = await import('./unknown-command/unknown-command.js');

// A mistyped command gets a short hint (and the documented exit 1), not the whole help.
const unknown = await findUnknownCommand(process.argv.slice(2), subCommands);
if (unknown !== undefined) {
  process.stderr.write(unknownCommandText(unknown));
  process.exitCode = 1;
} else {
  await runMain(mainCommand);
}
