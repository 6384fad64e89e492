/**
 * openclaw-mt — the command-line interface. The logic lives in the library packages; this package
 * parses arguments, composes the stores, manager and gateway from the operator config, and prints.
 */
export { mainCommand } from './main-command.js';
export { buildGateway, type BuiltGateway, type GatewayOverrides } from './context/build-gateway.js';
export { openStores, type OpenedStores } from './context/open-stores.js';
export { ExitCodes } from './output/exit-codes.js';
