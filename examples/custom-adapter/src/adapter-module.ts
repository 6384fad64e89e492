/**
 * The module an operator config names (`{ "adapter": { "module": "@openclaw-mt/example-custom-adapter/adapter" } }`
 * or a path to the built `dist/adapter-module.js`): its default export is the adapter factory.
 */
export { sqliteAdapterFactory as default } from './sqlite-adapter-factory.js';
